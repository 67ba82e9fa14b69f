// The Go twin of growth.cpp. Go does not report bytes copied, so this uses
// the sum a doubling stack copies when every frame is the same size: the
// final stack size minus the initial 2 KiB (each growth copies the whole old
// stack; 2K + 4K + ... + S/2 = S - 2K). Run with GODEBUG=adaptivestackstart=0
// so every goroutine starts at 2 KiB.
// Prints "growth <ns per copied byte> <bytes copied per round> <final stack>".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func recurse(n int) int {
	var buf [1000]byte
	buf[n%1000] = byte(n)
	if n == 0 {
		return int(buf[0])
	}
	return recurse(n-1) + int(buf[(n*7)%1000])
}

func main() {
	depth, rounds := 5000, 200
	if len(os.Args) > 1 {
		depth, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		rounds, _ = strconv.Atoi(os.Args[2])
	}
	sink := 0
	done := make(chan int)
	run := func() { go func() { done <- recurse(depth) }(); sink += <-done }
	run() // warm the stack caches
	start := time.Now()
	for i := 0; i < rounds; i++ {
		run()
	}
	growNs := float64(time.Since(start).Nanoseconds()) / float64(rounds)

	// The same recursion on a stack grown beforehand. The final size is
	// the smallest power of two holding depth frames of ~1 KiB.
	var flatNs float64
	go func() {
		sink += recurse(depth)
		s := time.Now()
		for i := 0; i < rounds; i++ {
			sink += recurse(depth)
		}
		flatNs = float64(time.Since(s).Nanoseconds()) / float64(rounds)
		done <- 0
	}()
	<-done
	final := 2048
	for final < depth*1100 {
		final *= 2
	}
	copied := float64(final - 2048)
	fmt.Printf("growth %.4f %.0f %d (grow %.0f ns, flat %.0f ns, sink %d)\n",
		(growNs-flatNs)/copied, copied, final, growNs, flatNs, sink%10)
}
