using AkkaUsers.Accounts.Telemetry;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.ForgotPassword;

/// <summary>
/// The requests of POST /user/forgot-password, between the endpoint and <see cref="ForgotPasswordWorker"/>. The endpoint
/// only adds the email here and answers, so its answer takes the same time whether the email belongs to anyone or not.
/// Bounded: when the worker falls behind by <see cref="ForgotPasswordOptions.QueueCapacity"/> requests, more are dropped.
/// </summary>
public sealed class ForgotPasswordQueue
{
    private readonly Channel<string> _channel;
    private readonly int _capacity;
    private readonly ILogger<ForgotPasswordQueue> _log;

    private readonly AkkaUsersMetrics _metrics;

    public ForgotPasswordQueue(IOptions<ForgotPasswordOptions> options, AkkaUsersMetrics metrics, ILogger<ForgotPasswordQueue> log)
    {
        _metrics = metrics;
        _capacity = options.Value.QueueCapacity;
        _log = log;
        _channel = Channel.CreateBounded<string>(new BoundedChannelOptions(_capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // so that TryWrite says when it is full
            SingleReader = false,
            SingleWriter = false,
        });
        metrics.ObserveForgotPasswordQueue(() => _channel.Reader.Count);
    }

    public ChannelReader<string> Reader => _channel.Reader;

    /// <summary>Adds the (valid) email without waiting; a full queue drops it with a warning that does not name it.</summary>
    public void Enqueue(string email)
    {
        if (_channel.Writer.TryWrite(email)) return;
        _metrics.ForgotPasswordDropped();
        _log.LogWarning("The forgot-password queue is full (capacity {Capacity}); a request was dropped", _capacity);
    }
}
