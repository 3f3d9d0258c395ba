using System.Diagnostics;

namespace AkkaUsers.Benchmarks;

/// <summary>Throughput and latency percentiles of one kind of request, and the service's CPU time per answered request.</summary>
public sealed record LoadResult(string Load, double Throughput, double P50Ms, double P99Ms, int Errors, double CpuMsPerRequest);

/// <summary>Drives one HTTP endpoint: closed loop (N requests always in flight) or open loop (a fixed arrival rate).</summary>
public static class LoadDriver
{
    /// <param name="request">Makes the n-th request (a new message each time: a message is sent once).</param>
    /// <param name="serviceCpu">The service process's CPU time so far.</param>
    public static async Task<LoadResult> ClosedLoopAsync(
        HttpClient client, Func<long, HttpRequestMessage> request, int expectedStatus, int concurrency, TimeSpan warmUp, TimeSpan measure,
        Func<TimeSpan> serviceCpu)
    {
        var measureFrom = Stopwatch.GetTimestamp() + Ticks(warmUp);
        var until = measureFrom + Ticks(measure);
        var cpu = CpuBetweenAsync(serviceCpu, measureFrom, until);
        long sequence = 0;
        var errors = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var latencies = new List<double>();
            while (Stopwatch.GetTimestamp() is var sent && sent < until)
            {
                var status = await SendAsync(client, request(Interlocked.Increment(ref sequence)));
                var answered = Stopwatch.GetTimestamp();
                if (sent < measureFrom || answered > until) continue; // warming up, or past the end
                latencies.Add(Milliseconds(answered - sent));
                if (status != expectedStatus) Interlocked.Increment(ref errors);
            }
            return latencies;
        });
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        return Summarize($"{concurrency} concurrent", all, measure, errors, await cpu);
    }

    /// <summary>
    /// Requests at a fixed rate whatever the answers do; each latency counts from when the request was due, not
    /// from when it was sent, so a stall shows in the percentiles instead of pausing the load.
    /// </summary>
    public static async Task<LoadResult> FixedRateAsync(
        HttpClient client, Func<long, HttpRequestMessage> request, int expectedStatus, double perSecond, TimeSpan measure,
        Func<TimeSpan> serviceCpu)
    {
        var total = (long)(perSecond * measure.TotalSeconds);
        var start = Stopwatch.GetTimestamp();
        var cpu = CpuBetweenAsync(serviceCpu, start, start + Ticks(measure));
        var errors = 0;
        var calls = new Task<double>[total];
        // The pace is kept by a thread of its own: Thread.Sleep(1) wakes about a millisecond later, where Task.Delay on a
        // busy thread pool woke late and started whole batches behind schedule, which the latencies (counted from when
        // each request was due) then charged to the service.
        var paced = new TaskCompletionSource();
        var pacer = new Thread(() =>
        {
            for (long i = 0; i < total; i++)
            {
                var due = start + (long)(i * Stopwatch.Frequency / perSecond);
                while (due - Stopwatch.GetTimestamp() > Ticks(TimeSpan.FromMilliseconds(1))) Thread.Sleep(1);
                var n = i;
                calls[n] = Task.Run(async () =>
                {
                    if (await SendAsync(client, request(n)) != expectedStatus) Interlocked.Increment(ref errors);
                    return Milliseconds(Stopwatch.GetTimestamp() - due);
                });
            }
            paced.SetResult();
        }) { IsBackground = true, Name = "load pacer" };
        pacer.Start();
        await paced.Task;
        var latencies = await Task.WhenAll(calls);
        return Summarize($"{perSecond:0} req/s offered", [.. latencies], measure, errors, await cpu);
    }

    private static async Task<int> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        using (var response = await client.SendAsync(request))
        {
            await response.Content.LoadIntoBufferAsync();
            return (int)response.StatusCode;
        }
    }

    /// <summary>The CPU time <paramref name="cpu"/> grows by between two <see cref="Stopwatch"/> timestamps.</summary>
    private static async Task<TimeSpan> CpuBetweenAsync(Func<TimeSpan> cpu, long from, long until)
    {
        await DelayUntil(from);
        var atStart = cpu();
        await DelayUntil(until);
        return cpu() - atStart;
    }

    private static Task DelayUntil(long timestamp) =>
        Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp) is var wait && wait > TimeSpan.Zero ? Task.Delay(wait) : Task.CompletedTask;

    private static LoadResult Summarize(string load, List<double> latencies, TimeSpan measure, int errors, TimeSpan cpu)
    {
        latencies.Sort();
        return new LoadResult(
            load, latencies.Count / measure.TotalSeconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), errors,
            cpu.TotalMilliseconds / latencies.Count);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
