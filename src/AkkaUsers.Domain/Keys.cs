using System.Security.Cryptography;
using System.Text;

namespace AkkaUsers.Domain;

/// <summary>
/// Normalized forms of usernames and emails: uniqueness and look-up happen on these, never on
/// what the user typed.
/// </summary>
public static class Keys
{
    /// <summary>
    /// Trim, Unicode NFKC, then case-fold. .NET has no full case folding; upper- then lower-casing
    /// invariantly folds the variants that matter here (e.g. 'ſ' and 'S' both become 's'), and the
    /// final NFKC and trim keep the result stable.
    /// </summary>
    public static string Username(string username) =>
        username.Trim().Normalize(NormalizationForm.FormKC)
            .ToUpperInvariant().ToLowerInvariant()
            .Normalize(NormalizationForm.FormKC)
            .Trim(); // NFKC can turn a leading spacing accent into a space

    /// <summary>
    /// Starts every username skeleton key, so that it never equals a username key: a username holds no control
    /// character (see <see cref="Validation.Username"/>), and this holds one.
    /// </summary>
    public const string SkeletonKeyPrefix = "skeleton\u001F";

    /// <summary>
    /// The key that keeps look-alike usernames apart: the UTS #39 skeleton (see <see cref="Confusables"/>) of the
    /// <see cref="Username"/> key. A registration claims it beside the username key, in the username index; look-ups
    /// (sign-in) still go through the username key.
    /// </summary>
    public static string UsernameSkeleton(string username) => SkeletonKeyPrefix + Confusables.Skeleton(Username(username));

    /// <summary>Trimmed and lower-cased: the stored and the unique form of an email.</summary>
    public static string Email(string email) => email.Trim().ToLowerInvariant();

    /// <summary>The normalized key of the given kind that <paramref name="user"/> holds.</summary>
    public static string Of(ClaimKind kind, UserProfile user) => kind switch
    {
        ClaimKind.Username => Username(user.Username),
        ClaimKind.Email => Email(user.Email),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Every key of the given kind's index that <paramref name="user"/> rightly holds: for usernames the username key and
    /// its skeleton key, for emails the email. A claim of any other key by this user is an orphan.
    /// </summary>
    public static IReadOnlyList<string> HeldBy(ClaimKind kind, UserProfile user) => kind switch
    {
        ClaimKind.Username => [Username(user.Username), UsernameSkeleton(user.Username)],
        ClaimKind.Email => [Email(user.Email)],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// A fixed-length entity id for a key of any length or alphabet (64 lowercase hex characters of
    /// SHA-256 over the UTF-8 normalized key), so that persistence ids fit the journal's column.
    /// </summary>
    public static string Digest(string normalizedKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedKey)));

    /// <summary>
    /// What a claim's events hold instead of the key: HMAC-SHA256 of the UTF-8 normalized key under the deployment's
    /// claim secret, 64 lowercase hex characters. Unlike <see cref="Digest"/>, nobody without the secret can test a
    /// guessed username or email against it.
    /// </summary>
    public static string KeyedDigest(byte[] secret, string normalizedKey) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(normalizedKey)));
}
