using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// A webhook receiver on 127.0.0.1 (a free port): keeps every request's JSON body, and answers 200, or 500 for as many
/// of the first deliveries for an email as <see cref="FailFirst"/> asked.
/// </summary>
public sealed class WebhookListener : LoopbackHttpServer
{
    private readonly List<JsonObject> _received = [];
    private readonly Dictionary<string, int> _failuresLeft = [];
    private readonly Signal _signal = new();

    public string Url => BaseUrl + "/hooks/forgot-password";

    private TaskCompletionSource _answers = Released();

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        return released;
    }

    /// <summary>Requests are still received and kept, but not answered until <see cref="ReleaseAnswers"/>.</summary>
    public void HoldAnswers()
    {
        lock (_received) _answers = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void ReleaseAnswers()
    {
        lock (_received) _answers.TrySetResult();
    }

    /// <summary>The first <paramref name="times"/> deliveries for <paramref name="email"/> get a 500.</summary>
    public void FailFirst(string email, int times)
    {
        lock (_received) _failuresLeft[email] = times;
    }

    /// <summary>Every request received for <paramref name="email"/> so far (failed ones included), oldest first.</summary>
    public IReadOnlyList<JsonObject> For(string email)
    {
        lock (_received) return _received.Where(r => r["email"]?.GetValue<string>() == email).ToList();
    }

    /// <summary>Waits until <paramref name="count"/> requests for <paramref name="email"/> have arrived, and returns them.</summary>
    public async Task<IReadOnlyList<JsonObject>> WaitFor(string email, int count = 1)
    {
        await _signal.WaitUntil(() => For(email).Count >= count);
        return For(email);
    }

    /// <summary>The code of the <paramref name="nth"/> delivery (1-based) for <paramref name="email"/>, once it arrived.</summary>
    public async Task<string> CodeFor(string email, int nth = 1) =>
        (await WaitFor(email, nth))[nth - 1]["code"]!.GetValue<string>();

    public override void Dispose()
    {
        ReleaseAnswers();
        base.Dispose();
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
        var email = body["email"]?.GetValue<string>() ?? "";
        var status = 200;
        Task answer;
        lock (_received)
        {
            answer = _answers.Task;
            _received.Add(body);
            if (_failuresLeft.TryGetValue(email, out var left) && left > 0)
            {
                _failuresLeft[email] = left - 1;
                status = 500;
            }
        }
        _signal.Pulse();
        await answer;
        context.Response.StatusCode = status;
    }
}
