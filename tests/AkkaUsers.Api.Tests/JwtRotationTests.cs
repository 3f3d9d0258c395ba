using System.Net;
using System.Security.Cryptography;
using System.Text;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Api.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AkkaUsers.Api.Tests;

/// <summary>Jwt:PreviousSecrets: tokens signed with a secret that was replaced keep working until Jwt:PreviousSecretsUntil.</summary>
public sealed class JwtRotationTests
{
    private static readonly string Previous1 = NewSecret();
    private static readonly string Previous2 = NewSecret();
    private static readonly string Unknown = NewSecret();

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task A_token_signed_with_a_previous_secret_is_accepted_until_PreviousSecretsUntil_and_401_from_then_on()
    {
        var clock = new ManualClock();
        var until = clock.GetUtcNow().AddHours(1);
        await using var factory = new ApiFactory(new()
        {
            ["Jwt:PreviousSecrets"] = $"{Previous1}, {Previous2}",
            ["Jwt:PreviousSecretsUntil"] = until.ToString("O"),
        }, clock: clock);
        using var client = factory.CreateClient();
        var token = await client.RegisterForToken("rotated", "rotated@example.com");

        // New tokens are signed with the current secret only.
        Assert.True(IsSignedWith(token, ApiFactory.Secret));
        Assert.False(IsSignedWith(token, Previous1));
        Assert.False(IsSignedWith(token, Previous2));

        var byPrevious1 = Resign(token, Previous1);
        var byPrevious2 = Resign(token, Previous2);
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(byPrevious1)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(byPrevious2)).StatusCode);
        Assert.Equal("Invalid token", await (await client.GetUser(Resign(token, Unknown))).AssertBoom(401));
        // A previous secret widens the keys, not the algorithms.
        Assert.Equal("Invalid token", await (await client.GetUser(Resign(token, Previous1 + Previous1, SecurityAlgorithms.HmacSha512))).AssertBoom(401));

        clock.Advance(until - clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(byPrevious1)).StatusCode);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("Invalid token", await (await client.GetUser(byPrevious1)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await client.GetUser(byPrevious2)).AssertBoom(401));
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(token)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task A_token_that_expired_more_than_a_second_ago_is_401()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var token = await client.RegisterForToken("lapsed", "lapsed@example.com");
        var id = System.Text.Json.Nodes.JsonNode.Parse(UserEndpointsTests.Base64Url(token.Split('.')[1]))!["id"]!.GetValue<string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // Well within the 30 s of skew that is the most the service may allow; it allows one second.
        var lapsed = Sign($$"""{"id":"{{id}}","scope":["user"],"iat":{{now - 60}},"exp":{{now - 3}}}""", ApiFactory.Secret);

        Assert.Equal("Token expired", await (await client.GetUser(lapsed)).AssertBoom(401));
        var current = Sign($$"""{"id":"{{id}}","scope":["user"],"iat":{{now}},"exp":{{now + 60}}}""", ApiFactory.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(current)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public void Each_short_previous_secret_is_one_failure_naming_its_position_and_never_its_value()
    {
        var validation = new ApiOptionsValidation(Options.Create(new ClusterNodeOptions()));
        var options = new JwtOptions
        {
            PreviousSecrets = $"too-short-one, {Previous1}, too-short-three",
            PreviousSecretsUntil = DateTimeOffset.UtcNow.AddDays(1),
        };

        var failures = validation.Validate(null, options).Failures!.ToList();

        Assert.Equal(
        [
            "Jwt:PreviousSecrets entry 1 must be at least 32 bytes (HS256 needs a 256-bit key)",
            "Jwt:PreviousSecrets entry 3 must be at least 32 bytes (HS256 needs a 256-bit key)",
        ], failures);
    }

    [Fact]
    public void Previous_secrets_need_the_time_they_stop_being_accepted()
    {
        var validation = new ApiOptionsValidation(Options.Create(new ClusterNodeOptions()));

        var failures = validation.Validate(null, new JwtOptions { PreviousSecrets = Previous1 }).Failures!;

        Assert.Contains("Jwt:PreviousSecretsUntil is required", Assert.Single(failures));
        Assert.True(validation.Validate(null, new JwtOptions { PreviousSecrets = Previous1, PreviousSecretsUntil = DateTimeOffset.UtcNow }).Succeeded);
    }

    /// <summary>The same payload, signed with <paramref name="secret"/>.</summary>
    private static string Resign(string token, string secret, string algorithm = SecurityAlgorithms.HmacSha256) =>
        Sign(UserEndpointsTests.Base64Url(token.Split('.')[1]), secret, algorithm);

    internal static string Sign(string payload, string secret, string algorithm = SecurityAlgorithms.HmacSha256) =>
        new JsonWebTokenHandler().CreateToken(payload, new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), algorithm));

    private static bool IsSignedWith(string token, string secret)
    {
        var parts = token.Split('.');
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        return Base64UrlEncoder.Encode(mac) == parts[2];
    }
}
