// The Go twin of parked.cpp: n goroutines blocked receiving from one channel.
// RSS (from /proc/self/statm) is read before spawning them and once all are
// parked. Prints "parked <RSS bytes per goroutine>", then closes the channel
// and joins them.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func rss() int64 {
	var size, resident int64
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fscan(f, &size, &resident)
	return resident * int64(os.Getpagesize())
}

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	c := make(chan int)
	var started, finished sync.WaitGroup
	before := rss()
	start := time.Now()
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-c
			finished.Done()
		}()
	}
	started.Wait()
	// Every goroutine has started; let the last ones reach their receive.
	time.Sleep(200 * time.Millisecond)
	spawnMs := float64(time.Since(start).Nanoseconds())/1e6 - 200
	after := rss()
	g := runtime.NumGoroutine() - 1
	fmt.Printf("parked %.0f (maxprocs %d, n %d, goroutines %d, RSS %d -> %d MB, spawn %.0f ms)\n",
		float64(after-before)/float64(n), runtime.GOMAXPROCS(0), n, g, before>>20, after>>20, spawnMs)
	close(c)
	finished.Wait()
}
