using System.Diagnostics;
for (var rep = 0; rep < 3; rep++) {
var sw = Stopwatch.StartNew(); ulong x = 1, y = 3;
for (long i = 0; i < 1_000_000_000; i++) { x = x * y; }
Console.WriteLine($"{3e9 / sw.Elapsed.TotalSeconds / 1e9:F2} GHz (imul lat 3) {x}");
}
