// The Go twin of spawn.cpp: spawn, run and join n trivial goroutines.
// Prints "spawn <ns per goroutine>".
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
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	fmt.Printf("spawn %.1f (maxprocs %d, n %d)\n", ns, runtime.GOMAXPROCS(0), n)
}
