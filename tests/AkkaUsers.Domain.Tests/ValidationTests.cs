using System.Text.Json;
using AkkaUsers.Domain;

namespace AkkaUsers.Domain.Tests;

public class ValidationTests
{
    private static void AssertErrorNames(string field, string? error)
    {
        Assert.NotNull(error);
        Assert.Contains($"\"{field}\"", error, StringComparison.Ordinal);
    }

    // Username

    [Theory]
    [InlineData("a")]
    [InlineData("john.doe")]
    [InlineData("  john  ")]
    [InlineData("J\u00f6rg M\u00fcller")]
    [InlineData("\u5c71\u7530")]
    public void Username_accepts_ordinary_names(string username)
    {
        Assert.Null(Validation.Username(username));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("   \t\n ")]
    [InlineData("\u3000")]
    public void Username_rejects_empty_or_whitespace_only(string username)
    {
        AssertErrorNames("username", Validation.Username(username));
    }

    [Fact]
    public void Username_of_128_characters_is_accepted()
    {
        Assert.Equal(128, Validation.UsernameMaxLength);
        Assert.Null(Validation.Username(new string('a', 128)));
    }

    [Fact]
    public void Username_of_129_characters_is_rejected()
    {
        AssertErrorNames("username", Validation.Username(new string('a', 129)));
    }

    [Fact]
    public void Username_length_is_counted_after_trimming()
    {
        Assert.Null(Validation.Username("   " + new string('a', 128) + "   "));
        AssertErrorNames("username", Validation.Username("   " + new string('a', 129) + "   "));
    }

    [Theory]
    [InlineData("ab\u0000c")]
    [InlineData("ab\u0007c")]
    [InlineData("a\nb")]
    [InlineData("a\tb")]
    [InlineData("a\u001bb")]
    [InlineData("a\u007fb")]
    [InlineData("a\u0085b")]
    public void Username_rejects_control_characters(string username)
    {
        AssertErrorNames("username", Validation.Username(username));
    }

    [Theory]
    [InlineData("root-admin@example.com\u200b")] // zero width space
    [InlineData("\u202eroot-admin")] // right-to-left override
    [InlineData("root\u200d-admin")] // zero width joiner
    [InlineData("root\u2066-admin\u2069")] // left-to-right isolate
    [InlineData("\ufeffroot-admin")] // zero width no-break space (byte order mark)
    [InlineData("root-admin\u00ad")] // soft hyphen
    [InlineData("root-admin\U000e0041")] // a tag character, beyond the basic plane
    public void Username_rejects_invisible_format_characters(string username)
    {
        Assert.Equal("\"username\" must not contain invisible format characters", Validation.Username(username));
    }

    /// <summary>
    /// Suspected bug: Validation.Username accepts U+FFFE (which JSON can carry as "\ufffe") and lone
    /// surrogates, but Keys.Username throws ArgumentException on them (string.Normalize rejects them),
    /// so an accepted username cannot be turned into its key. Either side may be fixed for this to pass.
    /// </summary>
    [Theory]
    [InlineData("a\ufffeb")]
    [InlineData("\ufffe")]
    public void A_username_that_validation_accepts_can_be_normalized(string username)
    {
        if (Validation.Username(username) is null)
            Assert.Null(Record.Exception(() => Keys.Username(username)));
    }

    [Fact]
    public void A_username_with_a_lone_surrogate_is_rejected_or_can_be_normalized()
    {
        var username = "a" + (char)0xD800 + "b";

        if (Validation.Username(username) is null)
            Assert.Null(Record.Exception(() => Keys.Username(username)));
    }

    // Email

    /// <summary>64 + 1 + 189 = 254 characters, every part within its own limit.</summary>
    private static string EmailOfLength(int length)
    {
        var local = new string('a', 64);
        var tail = ".com";
        var fixedPart = local.Length + 1 + 63 + 1 + 63 + 1 + tail.Length;
        var email = $"{local}@{new string('b', 63)}.{new string('c', 63)}.{new string('d', length - fixedPart)}{tail}";
        Assert.Equal(length, email.Length);
        return email;
    }

    [Theory]
    [InlineData("abc@example.com")]
    [InlineData("a.b+c@sub.example.co.uk")]
    [InlineData("UPPER@EXAMPLE.COM")]
    [InlineData("  abc@example.com  ")]
    [InlineData("a@b.co")]
    [InlineData("first_last@my-domain.example")]
    [InlineData("x!#$%&'*/=?^`{|}~-y@example.com")]
    [InlineData("user@123.example.com")]
    public void Email_accepts_valid_addresses(string email)
    {
        Assert.Null(Validation.Email(email));
    }

    [Theory]
    [InlineData("")] // empty
    [InlineData("   ")] // empty once trimmed
    [InlineData("abc.example.com")] // no @
    [InlineData("@example.com")] // nothing before @
    [InlineData("abc@")] // nothing after @
    [InlineData("a..b@example.com")] // two dots in local part
    [InlineData("abc@example..com")] // two dots in domain
    [InlineData(".abc@example.com")] // leading dot
    [InlineData("abc.@example.com")] // trailing dot in local part
    [InlineData("abc@localhost")] // domain without a dot
    [InlineData("abc@-example.com")] // label starting with a hyphen
    [InlineData("abc@example-.com")] // label ending with a hyphen
    [InlineData("abc@.example.com")] // empty first label
    [InlineData("abc@example.com.")] // empty last label
    [InlineData("a b@example.com")] // space in local part
    [InlineData("abc@exa mple.com")] // space in domain
    [InlineData("a@b@example.com")] // two @
    [InlineData("abc@exa_mple.com")] // underscore in domain
    [InlineData("\"abc\"@example.com")] // quoted local part
    [InlineData("j\u00f6rg@example.com")] // non-ASCII local part
    [InlineData("abc@b\u00fccher.example")] // non-ASCII domain
    public void Email_rejects_invalid_addresses(string email)
    {
        AssertErrorNames("email", Validation.Email(email));
    }

    [Fact]
    public void Email_of_254_characters_is_accepted()
    {
        Assert.Equal(254, Validation.EmailMaxLength);
        Assert.Null(Validation.Email(EmailOfLength(254)));
    }

    [Fact]
    public void Email_of_255_characters_is_rejected()
    {
        AssertErrorNames("email", Validation.Email(EmailOfLength(255)));
    }

    [Fact]
    public void Email_length_is_counted_after_trimming()
    {
        Assert.Null(Validation.Email("  " + EmailOfLength(254) + "  "));
    }

    [Fact]
    public void Email_local_part_of_64_is_accepted_and_65_rejected()
    {
        Assert.Null(Validation.Email(new string('a', 64) + "@example.com"));
        AssertErrorNames("email", Validation.Email(new string('a', 65) + "@example.com"));
    }

    [Fact]
    public void Email_domain_label_of_63_is_accepted_and_64_rejected()
    {
        Assert.Null(Validation.Email("a@" + new string('b', 63) + ".com"));
        AssertErrorNames("email", Validation.Email("a@" + new string('b', 64) + ".com"));
    }

    // Password

    private static readonly PasswordPolicy Default = new();

    [Fact]
    public void Default_policy_is_6_to_1024()
    {
        Assert.Equal(6, Default.MinLength);
        Assert.Equal(1024, Default.MaxLength);
    }

    [Fact]
    public void Password_abc321_is_accepted_by_the_default_policy()
    {
        Assert.Null(Validation.Password("abc321", Default));
    }

    [Fact]
    public void Password_of_5_characters_is_rejected()
    {
        AssertErrorNames("password", Validation.Password("abc32", Default));
    }

    [Fact]
    public void Empty_password_is_rejected()
    {
        AssertErrorNames("password", Validation.Password("", Default));
    }

    [Fact]
    public void Password_of_1024_characters_is_accepted()
    {
        Assert.Null(Validation.Password(new string('p', 1024), Default));
    }

    [Fact]
    public void Password_of_1025_characters_is_rejected()
    {
        AssertErrorNames("password", Validation.Password(new string('p', 1025), Default));
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    [InlineData(12, true)]
    [InlineData(13, false)]
    public void Password_respects_a_custom_policy(int length, bool accepted)
    {
        var policy = new PasswordPolicy(MinLength: 10, MaxLength: 12);

        var error = Validation.Password(new string('p', length), policy);

        if (accepted) Assert.Null(error);
        else AssertErrorNames("password", error);
    }

    [Fact]
    public void Password_with_a_custom_policy_accepts_what_the_default_rejects()
    {
        Assert.Null(Validation.Password("abc", new PasswordPolicy(MinLength: 3)));
        AssertErrorNames("password", Validation.Password("abc", Default));
    }

    // Common passwords

    private static readonly PasswordPolicy RejectCommon = new(RejectCommon: true);

    [Fact]
    public void The_default_policy_does_not_reject_common_passwords()
    {
        Assert.False(Default.RejectCommon);
        Assert.Null(Validation.Password("password123", Default));
    }

    [Fact]
    public void The_shipped_list_holds_the_10000_most_common_passwords()
    {
        Assert.Equal(10_000, CommonPasswords.Count);
        Assert.True(CommonPasswords.Contains("123456")); // the most common
        Assert.True(CommonPasswords.Contains("qqqqqq1")); // the 10,000th
        Assert.True(CommonPasswords.Contains("pic's")); // an entry the source escapes
    }

    [Theory]
    [InlineData("password123")]
    [InlineData("qwerty123")]
    [InlineData("trustno1")]
    [InlineData("monkey123")]
    public void A_common_password_is_rejected_when_the_policy_says_so(string password)
    {
        Assert.Equal("\"password\" is too common", Validation.Password(password, RejectCommon));
    }

    [Fact]
    public void The_common_password_error_names_the_field_it_was_sent_under()
    {
        Assert.Equal("\"newPassword\" is too common", Validation.Password("letmein1", RejectCommon, "newPassword"));
    }

    [Theory]
    [InlineData("Password123")]
    [InlineData("PASSWORD123")]
    [InlineData("TrustNo1")]
    public void A_common_password_in_other_letter_case_is_rejected(string password)
    {
        AssertErrorNames("password", Validation.Password(password, RejectCommon));
    }

    [Theory]
    [InlineData("password1234")] // longer than a common one: not truncated to it
    [InlineData(" password123")] // not trimmed
    [InlineData("password123 ")]
    [InlineData("pass word123")]
    [InlineData("abc321")]
    [InlineData("correct horse battery staple")]
    [InlineData("Tr0ub4dor&3-x")]
    public void A_password_that_is_not_on_the_list_is_accepted(string password)
    {
        Assert.Null(Validation.Password(password, RejectCommon));
    }

    [Fact]
    public void Length_limits_are_checked_before_the_list()
    {
        // "1234" is on the list, and too short.
        Assert.Equal("\"password\" length must be at least 6 characters long", Validation.Password("1234", RejectCommon));
    }

    // Metadata

    private static JsonElement Json(string json) => JsonSerializer.Deserialize<JsonElement>(json);

    /// <summary>{"k":"xxx…"} serialized to exactly <paramref name="bytes"/> bytes.</summary>
    private static JsonElement ObjectOfBytes(int bytes)
    {
        var element = Json($"{{\"k\":\"{new string('x', bytes - 8)}\"}}");
        Assert.Equal(bytes, JsonSerializer.SerializeToUtf8Bytes(element).Length);
        return element;
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a\":1}")]
    [InlineData("{\"nested\":{\"list\":[1,2,3],\"flag\":true,\"none\":null}}")]
    public void Metadata_accepts_an_object(string json)
    {
        Assert.Null(Validation.Metadata(Json(json)));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"a\":1}]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    public void Metadata_rejects_anything_but_an_object(string json)
    {
        AssertErrorNames("metadata", Validation.Metadata(Json(json)));
    }

    [Fact]
    public void Metadata_rejects_an_undefined_element()
    {
        AssertErrorNames("metadata", Validation.Metadata(default));
    }

    [Fact]
    public void Metadata_of_4096_bytes_is_accepted()
    {
        Assert.Equal(4096, Validation.MetadataMaxBytes);
        Assert.Null(Validation.Metadata(ObjectOfBytes(4096)));
    }

    /// <summary>
    /// Suspected bug: the size is measured on JsonSerializer's re-serialization with the default
    /// (HTML-safe, ASCII-only) encoder, which writes '&lt;', '&gt;', '&amp;', '\'', '+' and every non-ASCII
    /// character as a 6-byte \uXXXX escape. An object of about 1 KB or 2 KB of UTF-8 JSON is
    /// then measured as 6 KB and rejected.
    /// </summary>
    [Theory]
    [InlineData('<', 1000)] // 1008 bytes of JSON, measured as 6008
    [InlineData('\u00e9', 1000)] // 2008 bytes of UTF-8 JSON, measured as 6008
    public void Metadata_well_under_4096_bytes_of_JSON_is_accepted(char c, int count)
    {
        var json = $"{{\"k\":\"{new string(c, count)}\"}}";
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(json) < 4096);

        Assert.Null(Validation.Metadata(Json(json)));
    }

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    [Fact]
    public void Metadata_nested_32_deep_is_accepted_and_33_deep_is_rejected()
    {
        Assert.Null(Validation.Metadata(Json(Nested(32))));
        Assert.Equal("\"metadata\" must not nest more than 32 levels of objects and arrays", Validation.Metadata(Json(Nested(33))));
        Assert.Equal("\"metadata\" must not nest more than 32 levels of objects and arrays", Validation.Metadata(Json("{\"a\":" + new string('[', 32) + new string(']', 32) + "}")));
    }

    [Theory]
    [InlineData("{\"k\":\"\\udfff\"}")]
    [InlineData("{\"k\":[\"ok\",\"\\ud800x\"]}")]
    [InlineData("{\"\\udc00\":1}")]
    public void Metadata_with_a_lone_surrogate_is_rejected(string json)
    {
        Assert.Equal("\"metadata\" must be valid Unicode text", Validation.Metadata(Json(json)));
    }

    [Fact]
    public void Metadata_with_a_surrogate_pair_is_accepted()
    {
        Assert.Null(Validation.Metadata(Json("{\"k\":\"\\ud83d\\ude00\"}")));
    }

    [Fact]
    public void Metadata_over_4096_bytes_is_rejected()
    {
        AssertErrorNames("metadata", Validation.Metadata(ObjectOfBytes(4097)));
        AssertErrorNames("metadata", Validation.Metadata(ObjectOfBytes(10_000)));
    }
}
