using System.Collections.Frozen;
using System.Text.Json;
using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// JSON for every event, snapshot and message of the service, each under a short manifest that is
/// fixed forever: the journal never holds a CLR type name, so renaming a class cannot orphan it.
/// A type without a manifest here is an error, never a silent fallback.
/// </summary>
public sealed class AkkaUsersSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4110;

    /// <summary>The types this serializer is bound to in the actor system's configuration.</summary>
    public static readonly Type[] BoundTypes =
        [typeof(IUserMessage), typeof(IClaimMessage), typeof(UserState), typeof(ClaimState)];

    public static readonly FrozenDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        // user events
        [typeof(UserRegistered)] = "user-registered",
        [typeof(UserSignedIn)] = "user-signed-in",
        [typeof(PasswordRehashed)] = "password-rehashed",
        [typeof(RegistrationAbandoned)] = "registration-abandoned",
        [typeof(ScopeGranted)] = "scope-granted",
        [typeof(PasswordChanged)] = "password-changed",
        [typeof(UserUpdated)] = "user-updated",
        [typeof(SignInFailed)] = "sign-in-failed",
        [typeof(SignInLockedOut)] = "sign-in-locked-out",
        [typeof(UserDeleted)] = "user-deleted",
        [typeof(ErasureBoundary)] = "erasure-boundary",
        [typeof(DeletionStepDone)] = "deletion-step-done",
        [typeof(DeletionFailed)] = "deletion-failed",
        [typeof(PasswordResetRequested)] = "password-reset-requested",
        [typeof(SignInAddressLockedOut)] = "sign-in-address-locked-out",
        [typeof(UserImported)] = "user-imported",
        // user commands
        [typeof(RegisterUser)] = "register-user",
        [typeof(GetUser)] = "get-user",
        [typeof(Unload)] = "unload",
        [typeof(ImportUser)] = "import-user",
        [typeof(GetSignInSecret)] = "get-sign-in-secret",
        [typeof(RecordSignIn)] = "record-sign-in",
        [typeof(AbandonIfUnregistered)] = "abandon-if-unregistered",
        [typeof(GrantScope)] = "grant-scope",
        [typeof(ChangePassword)] = "change-password",
        [typeof(CheckToken)] = "check-token",
        [typeof(RecordSignInFailed)] = "record-sign-in-failed",
        [typeof(UpdateUser)] = "update-user",
        [typeof(DeleteUser)] = "delete-user",
        [typeof(RecordDeletionStep)] = "record-deletion-step",
        [typeof(EraseHistory)] = "erase-history",
        [typeof(RecordDeletionFailed)] = "record-deletion-failed",
        [typeof(GetDeletionStatus)] = "get-deletion-status",
        [typeof(RequestPasswordReset)] = "request-password-reset",
        [typeof(ResetPasswordWithCode)] = "reset-password-with-code",
        // user replies
        [typeof(UserFound)] = "user-found",
        [typeof(UserNotFound)] = "user-not-found",
        [typeof(SignInSecret)] = "sign-in-secret",
        [typeof(RegistrationRefused)] = "registration-refused",
        [typeof(AlreadyImported)] = "already-imported",
        [typeof(ImportRefused)] = "import-refused",
        [typeof(SignInRefused)] = "sign-in-refused",
        [typeof(RegistrationStatus)] = "registration-status",
        [typeof(SignedIn)] = "signed-in",
        [typeof(TokenChecked)] = "token-checked",
        [typeof(SignInLocked)] = "sign-in-locked",
        [typeof(UserUpdateDone)] = "user-update-done",
        [typeof(SignInFailureRecorded)] = "sign-in-failure-recorded",
        [typeof(DeletionStarted)] = "deletion-started",
        [typeof(DeletionStatus)] = "deletion-status",
        [typeof(PasswordResetIssued)] = "password-reset-issued",
        [typeof(PasswordResetThrottled)] = "password-reset-throttled",
        [typeof(PasswordResetRefused)] = "password-reset-refused",
        // claim events, commands, replies
        [typeof(KeyClaimed)] = "key-claimed",
        [typeof(KeyReleased)] = "key-released",
        [typeof(ClaimErased)] = "claim-erased",
        [typeof(ClaimKey)] = "claim-key",
        [typeof(ReleaseKey)] = "release-key",
        [typeof(LookupKey)] = "lookup-key",
        [typeof(UnloadKey)] = "unload-key",
        [typeof(ReviewClaim)] = "review-claim",
        [typeof(ClaimGranted)] = "claim-granted",
        [typeof(ClaimRefused)] = "claim-refused",
        [typeof(KeyReleaseDone)] = "key-release-done",
        [typeof(KeyOwner)] = "key-owner",
        [typeof(ClaimReviewed)] = "claim-reviewed",
        // snapshots
        [typeof(UserState)] = "user-state",
        [typeof(ClaimState)] = "claim-state",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, Type> TypesByManifest =
        Manifests.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    /// <summary>The JSON form of every type here; also the form the audit trail and the read model show.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        // Deeper than anything stored, so that a stored value still fits inside the snapshot or answer around it.
        MaxDepth = JsonLimits.MaxDepth,
    };

    private static readonly JsonSerializerOptions Storable = new(Json) { MaxDepth = JsonLimits.StoredDepth };

    public override int Identifier => Id;

    public override string Manifest(object o) => ManifestOf(o);

    public override byte[] ToBinary(object obj) => Encode(obj);

    public override object FromBinary(byte[] bytes, string manifest) => Decode(bytes, manifest);

    // The conversions need no actor system, so tools read the journal's rows without starting one.

    public static string ManifestOf(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{o.GetType()} has no manifest in {nameof(AkkaUsersSerializer)}");

    /// <summary>
    /// Why <paramref name="e"/> must not be persisted, or null when it may: it must serialize (no lone surrogate in
    /// its text) and nest at most <see cref="JsonLimits.StoredDepth"/> deep, so that every reader can give it back.
    /// </summary>
    public static string? WhyNotStorable(object e)
    {
        try
        {
            _ = JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Storable);
            return null;
        }
        catch (Exception failure) when (failure is JsonException or InvalidOperationException or ArgumentException)
        {
            return failure.Message;
        }
    }

    /// <summary>Builds the JSON metadata of every type now, which each type's first message would otherwise wait for.</summary>
    public static void PrepareMetadata()
    {
        Json.MakeReadOnly(populateMissingResolver: true); // as the first message would
        Storable.MakeReadOnly(populateMissingResolver: true);
        foreach (var type in Manifests.Keys)
        {
            Json.GetTypeInfo(type);
            Storable.GetTypeInfo(type);
        }
    }

    public static byte[] Encode(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public static object Decode(ReadOnlySpan<byte> bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest '{manifest}'");
}
