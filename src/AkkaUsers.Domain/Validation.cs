using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AkkaUsers.Domain;

/// <summary>The limits a client's input must meet. Each check returns an error message naming the field, or null.</summary>
public static class Validation
{
    public const int UsernameMaxLength = 128;
    public const int EmailMaxLength = 254;
    public const int MetadataMaxBytes = 4096;

    public static string? Username(string username)
    {
        var trimmed = username.Trim();
        if (trimmed.Length == 0) return "\"username\" is not allowed to be empty";
        if (trimmed.Length > UsernameMaxLength)
            return $"\"username\" length must be less than or equal to {UsernameMaxLength} characters long";
        if (trimmed.Any(char.IsControl)) return "\"username\" must not contain control characters";
        // Invisible format characters (zero-width spaces and joiners, bidirectional overrides, tags) make one name look like another.
        if (trimmed.EnumerateRunes().Any(rune => Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format))
            return "\"username\" must not contain invisible format characters";
        if (!trimmed.IsNormalizable()) return TextError("username");
        return null;
    }

    public static string? Email(string email)
    {
        var normalized = Keys.Email(email);
        if (normalized.Length == 0) return "\"email\" is not allowed to be empty";
        if (normalized.Length > EmailMaxLength)
            return $"\"email\" length must be less than or equal to {EmailMaxLength} characters long";
        return IsEmailAddress(normalized) ? null : "\"email\" must be a valid email";
    }

    /// <param name="field">The name the client sent it under ("password", "newPassword").</param>
    public static string? Password(string password, PasswordPolicy policy, string field = "password")
    {
        if (password.Length < policy.MinLength)
            return $"\"{field}\" length must be at least {policy.MinLength} characters long";
        if (password.Length > policy.MaxLength)
            return $"\"{field}\" length must be less than or equal to {policy.MaxLength} characters long";
        if (policy.RejectCommon && CommonPasswords.Contains(password)) return $"\"{field}\" is too common";
        return null;
    }

    public static string? Metadata(JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object) return "\"metadata\" must be of type object";
        if (System.Text.Encoding.UTF8.GetByteCount(metadata.GetRawText()) > MetadataMaxBytes)
            return $"\"metadata\" must be at most {MetadataMaxBytes} bytes of JSON";
        if (JsonLimits.DepthOf(metadata) > JsonLimits.FieldDepth) return DepthError("metadata");
        return JsonLimits.IsText(metadata) ? null : TextError("metadata");
    }

    public static string DepthError(string field) =>
        $"\"{field}\" must not nest more than {JsonLimits.FieldDepth} levels of objects and arrays";

    public static string TextError(string field) => $"\"{field}\" must be valid Unicode text";

    public const int ScopeMaxCount = 32;
    public const int NameMaxLength = 64;
    public const int VendorMaxLength = 256;

    /// <summary>Each scope a name of 1..64 printable characters without spaces; at most 32 of them.</summary>
    public static string? Scope(IReadOnlyList<string> scope)
    {
        if (scope.Count > ScopeMaxCount) return $"\"scope\" must contain less than or equal to {ScopeMaxCount} items";
        return scope.All(s => s.Length is > 0 and <= NameMaxLength && !s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            ? null
            : $"\"scope\" items must be 1 to {NameMaxLength} characters without spaces";
    }

    /// <summary>A string, or an array of at most 32 strings, each 1..256 characters (the shape was checked by the caller).</summary>
    public static string? Vendor(JsonElement vendor)
    {
        var names = vendor.ValueKind == JsonValueKind.Array ? vendor.EnumerateArray().ToList() : [vendor];
        if (names.Count > ScopeMaxCount) return $"\"vendor\" must contain less than or equal to {ScopeMaxCount} items";
        return names.All(n => n.GetString()!.Trim().Length is > 0 and <= VendorMaxLength)
            ? null
            : $"\"vendor\" must be 1 to {VendorMaxLength} characters long";
    }

    public static string? Plan(string plan) =>
        plan.Trim().Length is > 0 and <= NameMaxLength ? null : $"\"plan\" must be 1 to {NameMaxLength} characters long";

    /// <summary>Noncharacters and lone surrogates cannot be normalized (NFKC throws on them).</summary>
    private static bool IsNormalizable(this string text)
    {
        try
        {
            _ = text.Normalize(System.Text.NormalizationForm.FormKC);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// local@domain with a dot-atom local part (RFC 5322, no quoted strings or comments) and a
    /// domain of at least two LDH labels, each 1..63 characters: what mail systems accept in practice.
    /// </summary>
    private static bool IsEmailAddress(string email)
    {
        var at = email.LastIndexOf('@');
        if (at <= 0 || at > 64 || at == email.Length - 1) return false;
        var local = email[..at];
        var domain = email[(at + 1)..];

        const string localSpecials = "!#$%&'*+/=?^_`{|}~-";
        if (local.StartsWith('.') || local.EndsWith('.') || local.Contains("..")) return false;
        if (!local.All(c => char.IsAsciiLetterOrDigit(c) || c == '.' || localSpecials.Contains(c))) return false;

        var labels = domain.Split('.');
        return labels.Length >= 2 && labels.All(label =>
            label.Length is > 0 and <= 63 &&
            !label.StartsWith('-') && !label.EndsWith('-') &&
            label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}

/// <summary>
/// What a new password must meet: length limits (configurable; Appmixer's documented example "abc321" is six
/// characters), and, when <paramref name="RejectCommon"/>, not being one of the <see cref="CommonPasswords"/>.
/// </summary>
public sealed record PasswordPolicy(int MinLength = 6, int MaxLength = 1024, bool RejectCommon = false);

/// <summary>
/// When failed sign-ins lock an account out. <paramref name="MaxFailures"/> failures from one client address within
/// <paramref name="Window"/> lock that address out of the account for <paramref name="FirstLockout"/>, each further
/// lockout of that address before a successful sign-in from it for twice as long as the one before, up to
/// <paramref name="MaxLockout"/>; other addresses still sign in. <paramref name="AccountMaxFailures"/> failures from all
/// addresses within the window lock every address out on the same doubling schedule: a backstop against guessing from
/// many addresses, set far higher so that one stranger cannot reach it.
/// </summary>
public sealed record SignInPolicy(int MaxFailures, TimeSpan Window, TimeSpan FirstLockout, TimeSpan MaxLockout, int AccountMaxFailures = 100)
{
    /// <summary>The most failures an account remembers, per address and in all, so its state stays small whatever an attacker does.</summary>
    public const int MaxRememberedFailures = 100;

    /// <summary>The most client addresses an account tracks failures of; past it, the one that mattered longest ago is forgotten.</summary>
    public const int MaxTrackedAddresses = 32;

    public static readonly SignInPolicy Default = new(10, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(1), TimeSpan.FromDays(1), 100);

    /// <summary>
    /// The address failures are counted under: an IPv4 address as it is (IPv4-mapped IPv6 included), an IPv6 address by its
    /// /64 prefix (one subscriber's network hands out any number of addresses in it), and "" when the address is unknown.
    /// </summary>
    public static string AddressKey(string? clientAddress)
    {
        if (clientAddress is null || !IPAddress.TryParse(clientAddress, out var ip)) return clientAddress ?? "";
        if (ip.IsIPv4MappedToIPv6) return ip.MapToIPv4().ToString();
        if (ip.AddressFamily != AddressFamily.InterNetworkV6) return ip.ToString();
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The length of the lockout that follows <paramref name="earlierLockouts"/> lockouts since the last successful sign-in.</summary>
    public TimeSpan LockoutAfter(int earlierLockouts)
    {
        // Doubling past the cap would overflow long before the exponent is large; cap the exponent too.
        var doubled = FirstLockout.Ticks * Math.Pow(2, Math.Min(earlierLockouts, 62));
        return doubled >= MaxLockout.Ticks ? MaxLockout : TimeSpan.FromTicks((long)doubled);
    }
}
