using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using AkkaUsers.Actors.Hosting;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

// The request bodies, each read and checked by itself (see IJsonRequest): fields first, in order, then the rules, so
// that a 400 names the offending field in Boom's words. The attributes describe those same rules to the OpenAPI document.

public sealed record CreateUserRequest(
    [property: Required, StringLength(Validation.UsernameMaxLength, MinimumLength = 1)]
    [property: Description("1..128 characters after trimming; unique in any case or Unicode-equivalent variant")] string Username,
    [property: Required, EmailAddress, MaxLength(Validation.EmailMaxLength)]
    [property: Description("A valid address of at most 254 characters; stored lower-cased and unique")] string Email,
    [property: Required, NewPassword]
    [property: Description("The password policy applies; never stored or logged in clear")] string Password,
    [property: JsonObject, Description("Any JSON object of at most 4 KiB")] JsonElement? Metadata = null) : IJsonRequest<CreateUserRequest>
{
    public static CreateUserRequest Read(JsonBody body, IServiceProvider services)
    {
        var request = new CreateUserRequest(
            body.RequiredString("username"), body.RequiredString("email"), body.RequiredString("password"), body.OptionalObject("metadata"));
        ApiError.Check(Validation.Username(request.Username));
        ApiError.Check(Validation.Email(request.Email));
        ApiError.Check(Validation.Password(request.Password, PasswordOf(services).Policy));
        if (request.Metadata is { } metadata) ApiError.Check(Validation.Metadata(metadata));
        return request;
    }

    internal static PasswordOptions PasswordOf(IServiceProvider services) => services.GetRequiredService<IOptions<PasswordOptions>>().Value;
}

[AnyOfRequired("username", "email")]
public sealed record SignInRequest(
    [property: Required, PasswordToVerify] string Password,
    [property: Description("Looked up among usernames; wins when email is given too; username or email is required")] string? Username = null,
    [property: Description("Looked up among emails, when no username is given")] string? Email = null) : IJsonRequest<SignInRequest>
{
    public static SignInRequest Read(JsonBody body, IServiceProvider services)
    {
        var username = body.OptionalString("username");
        var email = body.OptionalString("email");
        var password = body.PasswordToVerify("password", CreateUserRequest.PasswordOf(services).MaxLength);
        if (username is null && email is null) throw ApiError.BadRequest("\"username\" or \"email\" is required");
        return new SignInRequest(password, username, email);
    }
}

public sealed record ChangePasswordRequest(
    [property: Required, PasswordToVerify, Description("The current password")] string OldPassword,
    [property: Required, NewPassword, Description("The new password; the password policy applies")] string NewPassword) : IJsonRequest<ChangePasswordRequest>
{
    public static ChangePasswordRequest Read(JsonBody body, IServiceProvider services)
    {
        var password = CreateUserRequest.PasswordOf(services);
        var request = new ChangePasswordRequest(body.PasswordToVerify("oldPassword", password.MaxLength), body.RequiredString("newPassword"));
        ApiError.Check(Validation.Password(request.NewPassword, password.Policy, "newPassword"));
        return request;
    }
}

public sealed record ResetPasswordRequest(
    [property: Required, EmailAddress, MaxLength(Validation.EmailMaxLength), Description("The email of the account")] string Email,
    [property: Required, NewPassword, Description("The new password; the password policy applies")] string Password) : IJsonRequest<ResetPasswordRequest>
{
    public static ResetPasswordRequest Read(JsonBody body, IServiceProvider services)
    {
        var request = new ResetPasswordRequest(body.RequiredString("email"), body.RequiredString("password"));
        ApiError.Check(Validation.Email(request.Email));
        ApiError.Check(Validation.Password(request.Password, CreateUserRequest.PasswordOf(services).Policy));
        return request;
    }
}

public sealed record ForgotPasswordRequest(
    [property: Required, EmailAddress, MaxLength(Validation.EmailMaxLength)]
    [property: Description("The account's email; the answer is the same whether or not an account has it")] string Email) : IJsonRequest<ForgotPasswordRequest>
{
    public static ForgotPasswordRequest Read(JsonBody body, IServiceProvider services)
    {
        var request = new ForgotPasswordRequest(body.RequiredString("email"));
        ApiError.Check(Validation.Email(request.Email));
        return request;
    }
}

public sealed record ResetWithCodeRequest(
    [property: Required, Description("The one-time code delivered to the webhook: <userId>.<43 base64url characters>")] string Code,
    [property: Required, NewPassword, Description("The new password; the password policy applies")] string Password) : IJsonRequest<ResetWithCodeRequest>
{
    public static ResetWithCodeRequest Read(JsonBody body, IServiceProvider services)
    {
        var request = new ResetWithCodeRequest(body.RequiredString("code"), body.RequiredString("password"));
        ApiError.Check(Validation.Password(request.Password, CreateUserRequest.PasswordOf(services).Policy));
        return request;
    }
}

/// <summary>Any of the fields; a field absent or null stays as it is.</summary>
public sealed record UpdateUserRequest(
    [property: MaxLength(Validation.ScopeMaxCount), Description("Replaces the scope; each name at most 64 characters")] IReadOnlyList<string>? Scope = null,
    [property: Vendor, Description("Kept as sent: a string or an array of strings")] JsonElement? Vendor = null,
    [property: JsonObject, Description("Replaces the metadata: any JSON object of at most 4 KiB")] JsonElement? Metadata = null,
    [property: EmailAddress, MaxLength(Validation.EmailMaxLength), Description("A new email, claimed before it is stored")] string? Email = null,
    bool? IsActive = null,
    [property: Description("At most 64 characters after trimming")] string? Plan = null) : IJsonRequest<UpdateUserRequest>
{
    public static UpdateUserRequest Read(JsonBody body, IServiceProvider services)
    {
        var request = new UpdateUserRequest(
            body.OptionalStrings("scope"), body.OptionalStringOrStrings("vendor"), body.OptionalObject("metadata"),
            body.OptionalString("email"), body.OptionalBoolean("isActive"), body.OptionalString("plan")?.Trim());
        if (request.Scope is { } scope) ApiError.Check(Validation.Scope(scope));
        if (request.Vendor is { } vendor) ApiError.Check(Validation.Vendor(vendor));
        if (request.Metadata is { } metadata) ApiError.Check(Validation.Metadata(metadata));
        if (request.Email is { } email) ApiError.Check(Validation.Email(email));
        if (request.Plan is { } plan) ApiError.Check(Validation.Plan(plan));
        return request;
    }
}

/// <summary>A new password: the configured policy's lengths, which the OpenAPI document shows.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NewPasswordAttribute : Attribute;

/// <summary>A password checked against the stored hash: required, at most the policy's maximum, no minimum.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PasswordToVerifyAttribute : Attribute;

/// <summary>A vendor: null, a string, or an array of strings.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class VendorAttribute : Attribute;

/// <summary>A JSON object of any shape (metadata).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class JsonObjectAttribute : Attribute;

/// <summary>At least one of these fields is required; the first given wins.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AnyOfRequiredAttribute(params string[] fields) : Attribute
{
    public IReadOnlyList<string> Fields { get; } = fields;
}
