// fib(35) with both recursive calls kept: the Go twin of fib.c.
// Prints "fib <ns per fib(35)>".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func fib(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return fib(n-1) + fib(n-2)
}

func main() {
	n, reps := 35, 5
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		reps, _ = strconv.Atoi(os.Args[2])
	}
	result := fib(n)
	start := time.Now()
	for i := 0; i < reps; i++ {
		result += fib(n)
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(reps)
	fmt.Printf("fib %.0f (result %d)\n", ns, result)
}
