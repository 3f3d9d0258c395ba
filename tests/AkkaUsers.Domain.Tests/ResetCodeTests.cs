namespace AkkaUsers.Domain.Tests;

public class ResetCodeTests
{
    private const string Id = "507f1f77bcf86cd799439011";

    [Fact]
    public void A_code_is_the_user_id_a_dot_and_43_base64url_characters_never_the_same_twice()
    {
        var codes = Enumerable.Range(0, 100).Select(_ => ResetCode.New(Id)).ToList();

        Assert.All(codes, code => Assert.Matches("^507f1f77bcf86cd799439011\\.[A-Za-z0-9_-]{43}$", code));
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, code => Assert.True(ResetCode.TryGetUserId(code, out var id) && id == Id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("507f1f77bcf86cd799439011")]
    [InlineData("507f1f77bcf86cd799439011.")]
    [InlineData("507f1f77bcf86cd799439011.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 42
    [InlineData("507f1f77bcf86cd799439011.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 44
    [InlineData("507f1f77bcf86cd799439011.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    [InlineData("507f1f77bcf86cd799439011.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("507F1F77BCF86CD799439011.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("507f1f77bcf86cd79943901z.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("507f1f77bcf86cd799439011-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void A_malformed_code_names_no_user(string code)
    {
        Assert.False(ResetCode.TryGetUserId(code, out var id));
        Assert.Equal("", id);
    }

    [Fact]
    public void The_hash_is_the_sha256_of_the_whole_code_in_lowercase_hex()
    {
        // SHA-256("abc"), the standard's own test vector.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ResetCode.Hash("abc"));
        var code = ResetCode.New(Id);
        Assert.Matches("^[0-9a-f]{64}$", ResetCode.Hash(code));
        Assert.NotEqual(ResetCode.Hash(code), ResetCode.Hash(code[..^1] + (code[^1] == 'A' ? 'B' : 'A')));
    }

    [Fact]
    public void Hashes_are_equal_only_when_every_character_is()
    {
        var hash = ResetCode.Hash("abc");

        Assert.True(ResetCode.HashesEqual(hash, ResetCode.Hash("abc")));
        Assert.False(ResetCode.HashesEqual(hash, ResetCode.Hash("abd")));
        Assert.False(ResetCode.HashesEqual(hash, hash[..^1]));
        Assert.False(ResetCode.HashesEqual(hash, ""));
    }
}
