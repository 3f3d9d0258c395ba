using System.Net.Http.Headers;
using System.Text.Json;
using AkkaUsers.Domain;

namespace AkkaUsers.Api.Http;

/// <summary>
/// A request body read as one JSON object, with field accessors whose errors name the field.
/// Unknown fields are ignored, as Appmixer's API does.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonElement _root;

    private JsonBody(JsonElement root) => _root = root;

    /// <summary>
    /// 415 unless the content type is JSON in UTF-8, 413 past <paramref name="maxBytes"/>, 400 unless the body is a
    /// JSON object whose text is valid Unicode, with no key twice in one object and no field nested deeper than
    /// <see cref="JsonLimits.FieldDepth"/>. Every request body the service reads passes here.
    /// </summary>
    public static async Task<JsonBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || !IsJson(contentType))
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json");
        // JSON is UTF-8 (RFC 8259); text in another charset would be read as something else than the client meant.
        if (contentType.CharSet is { } charset && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "Content-Type charset must be utf-8");
        if (request.ContentLength > maxBytes)
            throw TooLarge(maxBytes);

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }

        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>One JSON object, checked as <see cref="ReadAsync"/> checks a body; 400 when it is anything else.</summary>
    public static JsonBody Parse(ReadOnlyMemory<byte> json)
    {
        JsonDocument document;
        try
        {
            Check(json.Span);
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = JsonLimits.FieldDepth + 1 });
        }
        catch (JsonException)
        {
            throw ApiError.BadRequest("Invalid request payload JSON format");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest("\"value\" must be of type object");
            return new JsonBody(document.RootElement.Clone());
        }
    }

    /// <summary>
    /// One pass over the body, before anything reads a value: every string and key must be Unicode text (no invalid
    /// UTF-8, no escaped lone surrogate), no object may have a key twice (readers disagree on which one wins), and no
    /// field may nest deeper than <see cref="JsonLimits.FieldDepth"/>. Each 400 names the top-level field it is in.
    /// </summary>
    private static void Check(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = JsonLimits.MaxDepth });
        var keys = new Stack<HashSet<string>?>(); // one set per open object, null for an open array
        var field = "value";
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    // The body itself is depth 0; a field's value is depth 1.
                    if (reader.CurrentDepth > JsonLimits.FieldDepth) throw ApiError.BadRequest(Validation.DepthError(field));
                    keys.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    keys.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    var key = TextOf(ref reader, field);
                    if (reader.CurrentDepth == 1) field = Shortened(key);
                    if (!keys.Peek()!.Add(key))
                        throw ApiError.BadRequest(reader.CurrentDepth == 1
                            ? $"\"{field}\" must be given at most once"
                            : $"\"{field}\" must not have the same key twice in one object");
                    break;
                case JsonTokenType.String:
                    TextOf(ref reader, field);
                    break;
            }
        }
    }

    private static string TextOf(ref Utf8JsonReader reader, string field)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ApiError.BadRequest(Validation.TextError(field));
        }
    }

    /// <summary>A field's name as an error message quotes it: a client may send a name of any length.</summary>
    private static string Shortened(string name)
    {
        if (name.Length <= Validation.NameMaxLength) return name;
        var cut = char.IsHighSurrogate(name[Validation.NameMaxLength - 1]) ? Validation.NameMaxLength - 1 : Validation.NameMaxLength;
        return name[..cut] + "...";
    }

    /// <summary>The string at <paramref name="field"/>, or null when it is absent or null; 400 for any other type.</summary>
    public string? OptionalString(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be a string"),
    };

    public string RequiredString(string field) =>
        OptionalString(field) ?? throw ApiError.BadRequest($"\"{field}\" is required");

    /// <summary>
    /// A password to check against the stored hash: required, and no longer than any password could be, so that
    /// nobody makes the service hash megabytes. The policy's minimum does not apply: an old password may predate it.
    /// </summary>
    public string PasswordToVerify(string field, int maxLength)
    {
        var secret = OptionalString(field);
        if (string.IsNullOrEmpty(secret)) throw ApiError.BadRequest($"\"{field}\" is required");
        if (secret.Length > maxLength)
            throw ApiError.BadRequest($"\"{field}\" length must be less than or equal to {maxLength} characters long");
        return secret;
    }

    /// <summary>The object at <paramref name="field"/>, or null when absent or null; 400 for any other type.</summary>
    public JsonElement? OptionalObject(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } value => value,
        _ => throw ApiError.BadRequest($"\"{field}\" must be of type object"),
    };

    /// <summary>The boolean at <paramref name="field"/>, or null when absent or null; 400 for any other type.</summary>
    public bool? OptionalBoolean(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True or JsonValueKind.False } value => value.GetBoolean(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be a boolean"),
    };

    /// <summary>The array of strings at <paramref name="field"/>, or null when absent or null; 400 for anything else.</summary>
    public IReadOnlyList<string>? OptionalStrings(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } value when value.EnumerateArray().All(IsString) =>
            value.EnumerateArray().Select(item => item.GetString()!).ToList(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be an array of strings"),
    };

    /// <summary>A string or an array of strings at <paramref name="field"/>, kept as sent; null when absent or null.</summary>
    public JsonElement? OptionalStringOrStrings(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value,
        { ValueKind: JsonValueKind.Array } value when value.EnumerateArray().All(IsString) => value,
        _ => throw ApiError.BadRequest($"\"{field}\" must be a string or an array of strings"),
    };

    private static bool IsString(JsonElement element) => element.ValueKind == JsonValueKind.String;

    /// <summary>The value at <paramref name="field"/> whatever its type, or null when it is absent or null.</summary>
    public JsonElement? Field(string field) =>
        _root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static ApiError TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"Payload content length greater than maximum allowed: {maxBytes}");

    private static bool IsJson(MediaTypeHeaderValue contentType) =>
        contentType.MediaType is { } type &&
        (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
         type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}
