// The Go twin of yield.cpp: two goroutines each call runtime.Gosched n times
// while the main goroutine waits. Prints "yield <ns per switch>" (the total
// time over the total number of yields).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 2000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var wg sync.WaitGroup
	worker := func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	start := time.Now()
	wg.Add(2)
	go worker()
	go worker()
	wg.Wait()
	ns := float64(time.Since(start).Nanoseconds()) / float64(2*n)
	fmt.Printf("yield %.1f (maxprocs %d, n %d)\n", ns, runtime.GOMAXPROCS(0), n)
}
