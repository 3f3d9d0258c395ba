using System.Collections;
using System.Reflection;
using System.Diagnostics.Metrics;
using System.Text.Json;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

/// <summary>Sample data and a value comparison that also looks into lists and JSON.</summary>
public static class TestData
{
    public static string NewUserId() => UserId.New(DateTimeOffset.UtcNow).Value;

    /// <summary>Unique per call, so that tests never share a key even on one data directory.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>A username in mixed case and an email in mixed case, and the normalized key of the given kind.</summary>
    public static (string Key, string Username, string Email) NewAccountKeys(ClaimKind kind)
    {
        var username = UniqueName("Grace-Owner");
        var email = Keys.Email($"{UniqueName("Grace")}@Example.com");
        return (kind == ClaimKind.Username ? Keys.Username(username) : email, username, email);
    }

    /// <summary>The service's meters on a meter factory of their own, for parts built without a host.</summary>
    public static AkkaUsersMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    public static JsonElement Metadata(string json = """{"team":"core","level":3,"tags":["a","b"]}""") =>
        JsonDocument.Parse(json).RootElement.Clone();

    public static RegisterUser Register(
        string userId, string? username = null, string? email = null, string passwordHash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA") =>
        new(userId,
            username ?? UniqueName("user"),
            email ?? $"{UniqueName("mail")}@example.com",
            passwordHash,
            ["user", "admin"],
            "pro",
            "acme",
            Metadata());

    /// <summary>
    /// Equality by value all the way down: records property by property, lists element by element,
    /// JSON by <see cref="JsonElement.DeepEquals"/>. Fails naming the path of the first difference.
    /// </summary>
    public static void AssertDeepEqual(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }

        switch (expected)
        {
            case JsonElement e:
                Assert.True(actual is JsonElement a && JsonElement.DeepEquals(e, a), $"{path}: expected JSON {e}, got {actual}");
                return;
            case string or DateTimeOffset or DateTime or TimeSpan or Enum or bool or int or long:
                Assert.True(Equals(expected, actual), $"{path}: expected {expected}, got {actual}");
                return;
            case IEnumerable expectedItems:
                var e1 = expectedItems.Cast<object?>().ToList();
                var a1 = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
                Assert.True(e1.Count == a1.Count, $"{path}: expected {e1.Count} items, got {a1.Count}");
                for (var i = 0; i < e1.Count; i++) AssertDeepEqual(e1[i], a1[i], $"{path}[{i}]");
                return;
        }

        Assert.True(expected.GetType() == actual.GetType(), $"{path}: expected a {expected.GetType().Name}, got a {actual.GetType().Name}");
        var properties = expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance);
        Assert.NotEmpty(properties);
        foreach (var property in properties.Where(p => p.GetIndexParameters().Length == 0))
            AssertDeepEqual(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
    }
}
