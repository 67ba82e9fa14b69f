// The Go twin of pingpong.cpp: round trips over two unbuffered channels
// between the main goroutine and a partner.
// Prints "pingpong <ns per round trip>".
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	for i := 0; i < 1000; i++ { // warm up
		ping <- i
		<-pong
	}
	sum := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		sum += <-pong
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	close(ping)
	<-pong
	fmt.Printf("pingpong %.1f (maxprocs %d, n %d, sum %d)\n", ns, runtime.GOMAXPROCS(0), n, sum%10)
}
