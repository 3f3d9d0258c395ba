using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Akka.Persistence.Query;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;

namespace AkkaUsers.ReadSide.Audit;

/// <summary>
/// One journal entry as an auditor sees it: where it sits in the log, its type (the event's stable manifest),
/// when it was stored, and its data, the serializer's JSON with every secret redacted. The HTTP audit trail and
/// the command-line export both write entries through <see cref="WriteTo"/>, so the two never differ.
/// </summary>
public sealed record AuditEvent(
    string PersistenceId, long SequenceNr, long Ordering, DateTimeOffset Timestamp, string Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>
    /// For writers of entries: no \u escapes for '+', quotes or non-ASCII letters in times and names. The output is
    /// JSON for programs and people, never embedded in HTML.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = JsonLimits.MaxDepth,
    };

    /// <summary>An entry read straight from the journal's table: its payload is already the serializer's JSON.</summary>
    public static AuditEvent From(JournalRow row) => new(
        row.PersistenceId, row.SequenceNr, row.Ordering, row.Timestamp, row.Manifest ?? "",
        row.SerializerId == AkkaUsersSerializer.Id ? row.Message : ReadOnlyMemory<byte>.Empty);

    /// <summary>An entry read through Akka.Persistence.Query: the event is serialized again into the same JSON.</summary>
    public static AuditEvent From(EventEnvelope envelope) => new(
        envelope.PersistenceId, envelope.SequenceNr, ((Sequence)envelope.Offset).Value, JournalRow.TimestampOf(envelope.Timestamp),
        AkkaUsersSerializer.ManifestOf(envelope.Event), AkkaUsersSerializer.Encode(envelope.Event));

    /// <summary>
    /// {"persistenceId", "sequenceNr", "ordering", "timestamp", "type", "data"}; data is null when the payload is
    /// not this service's JSON (another serializer, or damaged), which <c>audit verify</c> reports.
    /// </summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("persistenceId", PersistenceId);
        writer.WriteNumber("sequenceNr", SequenceNr);
        writer.WriteNumber("ordering", Ordering);
        writer.WriteString("timestamp", Timestamp);
        writer.WriteString("type", Type);
        writer.WritePropertyName("data");
        var redacted = Scratch ??= new ArrayBufferWriter<byte>(4096);
        redacted.ResetWrittenCount();
        if (Redaction.TryRedact(Data.Span, redacted)) writer.WriteRawValue(redacted.WrittenSpan, skipInputValidation: true);
        else writer.WriteNullValue();
        writer.WriteEndObject();
    }

    /// <summary>One buffer per thread for the redacted data, so writing an entry allocates nothing for it.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? Scratch;
}

/// <summary>
/// What an audit never shows: password hashes, passwords, one-time codes, secrets and tokens. Decided by the
/// property name, at any depth, so that an event added later with such a field is redacted without a change here.
/// </summary>
public static class Redaction
{
    public const string Redacted = "[redacted]";

    private static ReadOnlySpan<byte> RedactedJson => "\"[redacted]\""u8;

    /// <summary>Property names (camelCase, as the serializer writes them) whose values are secret.</summary>
    public static bool IsSecret(ReadOnlySpan<char> propertyName) =>
        propertyName.Contains("password", StringComparison.OrdinalIgnoreCase)
        || propertyName.Contains("hash", StringComparison.OrdinalIgnoreCase)
        || propertyName.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || propertyName.Contains("token", StringComparison.OrdinalIgnoreCase)
        || propertyName.Equals("code", StringComparison.OrdinalIgnoreCase)
        || propertyName.EndsWith("Code", StringComparison.Ordinal);

    /// <summary>
    /// Copies <paramref name="json"/> to <paramref name="output"/> as it is, except the value of every secret
    /// property (even an object or an array), which becomes "[redacted]". False, with nothing usable written,
    /// when <paramref name="json"/> is not one well-formed JSON value.
    /// </summary>
    public static bool TryRedact(ReadOnlySpan<byte> json, IBufferWriter<byte> output)
    {
        if (json.IsEmpty) return false;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = JsonLimits.MaxDepth });
        var copied = 0;
        try
        {
            // Reading to the end also checks that the whole payload is well-formed.
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || !IsSecret(ref reader)) continue;
                reader.Read();
                var valueStart = (int)reader.TokenStartIndex;
                reader.Skip();
                output.Write(json[copied..valueStart]);
                output.Write(RedactedJson);
                copied = (int)reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            return false;
        }
        output.Write(json[copied..]);
        return true;
    }

    /// <summary>The redacted JSON as text, or null when it is not JSON (for tests and small answers).</summary>
    public static string? Redact(ReadOnlySpan<byte> json)
    {
        var output = new ArrayBufferWriter<byte>();
        return TryRedact(json, output) ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
    }

    /// <summary>The property name the reader is on, checked without allocating for the usual short ASCII names.</summary>
    private static bool IsSecret(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.ValueSpan.Length > 256) return IsSecret(reader.GetString()!);
        Span<char> name = stackalloc char[reader.ValueSpan.Length];
        return IsSecret(name[..Encoding.UTF8.GetChars(reader.ValueSpan, name)]);
    }
}
