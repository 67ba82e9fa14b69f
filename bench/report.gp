# The charts of the benchmark report, from the data files bench/report.py
# writes: gnuplot -e "data='<dir>'; out='<dir>'" bench/report.gp
# (Debian's gnuplot-nox; bench/report.sh calls it). Bars are drawn at
# explicit positions (not as histograms) so that a missing value leaves a gap.
set terminal pngcairo size 1000,580 font "sans,10" noenhanced
set encoding utf8
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set xtics scale 0
set bmargin 5
set key above horizontal
set style fill solid 0.85 border -1
ours = "#1f77b4"; go = "#2ca02c"; threads = "#d62728"; plain = "#7f7f7f"
label_of(x) = x != x ? "" : (x >= 10000 ? sprintf("%.0fk", x / 1000) : (x >= 1000 ? sprintf("%.1fk", x / 1000) : (x >= 10 ? sprintf("%.0f", x) : sprintf("%.1f", x))))
w = 0.26

# 1. Time per operation, goroutine vs Go vs threads (log scale: threads are
# two orders of magnitude slower).
set output out."/time_per_op.png"
set title "Time per operation (min of the runs; lower is better; log scale)"
set ylabel "ns per goroutine / round trip / yield"
set logscale y
set yrange [1:*]
set xrange [-0.6:*]
set boxwidth w absolute
plot data."/time.dat" using ($0 - w):2:xtic(1) with boxes title "goroutine (this project)" lc rgb ours, \
     '' using 0:3 with boxes title "Go 1.19" lc rgb go, \
     '' using ($0 + w):4 with boxes title "threads (std::thread, 10k for spawn)" lc rgb threads, \
     '' using ($0 - w):($2 * 1.2):(label_of($2)) with labels notitle, \
     '' using 0:($3 * 1.2):(label_of($3)) with labels notitle, \
     '' using ($0 + w):($4 * 1.2):(label_of($4)) with labels notitle
unset logscale y

# 2. Resident bytes per parked goroutine (or blocked thread).
set output out."/parked_memory.png"
set title "Resident memory per parked goroutine (1M) / blocked thread (10k) (min; lower is better)"
set ylabel "bytes (RSS growth / count)"
set yrange [0:*]
set boxwidth 0.6 absolute
plot data."/parked.dat" using 0:2:($3 == 1 ? 0x1f77b4 : ($3 == 2 ? 0x2ca02c : 0xd62728)):xtic(1) with boxes lc rgb variable notitle, \
     '' using 0:($2):(sprintf("%.0f B", $2)) with labels offset 0,0.8 notitle, \
     1000 with lines dt 2 lw 2 lc rgb "#ff7f0e" title "goal: <= 1,000 B per goroutine"

# 3. Ratios against the goals (bars: measured, min/min; red marks: goal).
set output out."/ratios.png"
set title "Measured ratio (bars, min/min) against the goal (red marks): at or below the mark = met"
set ylabel "goroutine / other"
set yrange [0:*]
set bmargin 7
set xtics rotate by -30 left
plot data."/ratios.dat" using 0:2:xtic(1) with boxes lc rgb ours title "measured", \
     '' using ($0 - 0.4):3:(0.8):(0) with vectors nohead lw 3 lc rgb "#d62728" title "goal", \
     '' using 0:2:(sprintf("%.3fx", $2)) with labels offset 0,0.8 notitle
set xtics norotate
set bmargin 5

# 4. Call cost: instrumented code against plain clang -O2 (= 1).
set output out."/call_cost.png"
set title "Run time relative to plain clang -O2 (= 1; min of the runs; lower is better)"
set ylabel "time / plain clang -O2"
set yrange [0:*]
set boxwidth w absolute
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#000000" back
plot data."/calls.dat" using ($0 - w):2:xtic(1) with boxes title "goroutine plugin" lc rgb ours, \
     '' using 0:3 with boxes title "Go 1.19" lc rgb go, \
     '' using ($0 + w):4 with boxes title "plugin without escape transformations" lc rgb plain, \
     '' using ($0 - w):2:(sprintf("%.3f", $2)) with labels offset 0,0.7 notitle, \
     '' using 0:3:(sprintf("%.3f", $3)) with labels offset 0,0.7 notitle, \
     '' using ($0 + w):4:(sprintf("%.3f", $4)) with labels offset 0,0.7 notitle
