using System.Diagnostics;
using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// One request is one trace: the HTTP span, and under it a span for each ask to an entity, each password hash, and a
/// new user's check and write.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Registration_and_sign_in_spans_are_children_of_the_request_span()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        using var spans = new SpanCollector();

        var register = await spans.TracedRequest(client, () => Api.Json("""{"username":"traced","email":"traced@example.com","password":"abc321"}"""), "/user");
        Assert.Equal(HttpStatusCode.Created, register.Response.StatusCode);
        Assert.Equal(["password hash", "new user check", "new user write"], await spans.ChildrenOfRequest(register.TraceId));

        // The username is known now: this registration goes the entities' way, and meets the claim there.
        var taken = await spans.TracedRequest(client, () => Api.Json("""{"username":"traced","email":"other@example.com","password":"abc321"}"""), "/user");
        Assert.Equal(HttpStatusCode.Conflict, taken.Response.StatusCode);
        Assert.Equal(["password hash", "new user check", "ask username ClaimKey"], await spans.ChildrenOfRequest(taken.TraceId));

        var signIn = await spans.TracedRequest(client, () => Api.Json("""{"username":"traced","password":"abc321"}"""), "/user/auth");
        Assert.Equal(HttpStatusCode.OK, signIn.Response.StatusCode);
        Assert.Equal(["ask username LookupKey", "ask user GetSignInSecret", "password verify", "ask user RecordSignIn"], await spans.ChildrenOfRequest(signIn.TraceId));
        factory.DeleteData();
    }

    /// <summary>Listens to the service's spans and ASP.NET Core's; keeps those of the traces this test started.</summary>
    private sealed class SpanCollector : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];
        private readonly HashSet<ActivityTraceId> _traces = [];
        private readonly Signal _stoppedOne = new();

        public SpanCollector()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is "AkkaUsers" or "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped)
                    {
                        if (!_traces.Contains(activity.TraceId)) return;
                        _stopped.Add(activity);
                    }
                    _stoppedOne.Pulse();
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        /// <summary>Posts with a W3C traceparent header of a new trace, as a calling service would.</summary>
        public async Task<(HttpResponseMessage Response, ActivityTraceId TraceId)> TracedRequest(HttpClient client, Func<HttpContent> body, string path)
        {
            var traceId = ActivityTraceId.CreateRandom();
            lock (_stopped) _traces.Add(traceId);
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body() };
            request.Headers.Add("traceparent", Api.TraceParent(traceId));
            return (await client.SendAsync(request), traceId);
        }

        /// <summary>The names of the spans directly under the trace's request span, in the order they started.</summary>
        public async Task<IReadOnlyList<string>> ChildrenOfRequest(ActivityTraceId traceId)
        {
            // The request span ends after the answer has reached the client.
            Activity? request = null;
            await _stoppedOne.WaitUntil(() => (request = Spans(traceId).SingleOrDefault(a => a.Source.Name == "Microsoft.AspNetCore")) is not null);

            var spans = Spans(traceId);
            Assert.All(spans.Where(a => a != request), a => Assert.Equal(request!.SpanId, a.ParentSpanId));
            return spans.Where(a => a.Source.Name == "AkkaUsers").OrderBy(a => a.StartTimeUtc).Select(a => a.DisplayName).ToList();
        }

        public void Dispose() => _listener.Dispose();

        private List<Activity> Spans(ActivityTraceId traceId)
        {
            lock (_stopped) return _stopped.Where(a => a.TraceId == traceId).ToList();
        }
    }
}
