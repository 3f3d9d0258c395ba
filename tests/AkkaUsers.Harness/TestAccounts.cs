using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AkkaUsers.Harness;

/// <summary>The few calls the cluster runs make, in Appmixer's JSON.</summary>
public static class TestAccounts
{
    public static Task<HttpResponseMessage> Register(this ServiceProcess node, string username, string email, string password = "abc321") =>
        node.Client.PostAsJsonAsync("/user", new { username, email, password });

    public static Task<HttpResponseMessage> SignIn(this ServiceProcess node, string username, string password = "abc321") =>
        node.Client.PostAsJsonAsync("/user/auth", new { username, password });

    public static async Task<HttpResponseMessage> GetUser(this ServiceProcess node, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/user");
        request.Headers.Authorization = new("Bearer", token);
        return await node.Client.SendAsync(request);
    }

    /// <summary>
    /// Waits until the service answers a sign-in with a real verdict (401 for nobody) instead of a 503:
    /// its shard regions found their shard coordinators and the journal answered through them.
    /// </summary>
    public static async Task WaitUntilServingAsync(this ServiceProcess node, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (await TestAccounts.StatusOf(() => node.SignIn("nobody-" + Guid.NewGuid().ToString("N"))) != 401)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{node.Name} does not serve:\n{node.LogTail()}");
            await Task.Delay(200); // poll interval
        }
    }

    public static async Task<JsonObject> Body(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>The status, or 0 when the node refused the connection or did not answer (it is down).</summary>
    public static async Task<int> StatusOf(Func<Task<HttpResponseMessage>> call) => (await Send(call)).Status;

    /// <summary>The status and JSON body, or status 0 and no body when the node is down.</summary>
    public static async Task<(int Status, JsonObject? Body)> Send(Func<Task<HttpResponseMessage>> call)
    {
        try
        {
            using var response = await call();
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, null);
        }
    }

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;
}
