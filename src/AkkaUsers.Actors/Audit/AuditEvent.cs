using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Akka.Persistence.Query;
using AkkaUsers.Actors.Persistence;

namespace AkkaUsers.Actors.Audit;

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
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
        if (Redaction.IsJson(Data.Span)) Redaction.WriteRedacted(Data.Span, writer);
        else writer.WriteNullValue();
        writer.WriteEndObject();
    }
}

/// <summary>
/// What an audit never shows: password hashes, passwords, one-time codes, secrets and tokens. Decided by the
/// property name, at any depth, so that an event added later with such a field is redacted without a change here.
/// </summary>
public static class Redaction
{
    public const string Redacted = "[redacted]";

    /// <summary>Property names (camelCase, as the serializer writes them) whose values are secret.</summary>
    public static bool IsSecret(string propertyName)
    {
        var name = propertyName.ToLowerInvariant();
        return name.Contains("password") || name.Contains("hash") || name.Contains("secret") || name.Contains("token")
               || name == "code" || propertyName.EndsWith("Code", StringComparison.Ordinal);
    }

    public static bool IsJson(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty) return false;
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read()) { }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Copies <paramref name="json"/> token by token, writing <see cref="Redacted"/> for the value of every secret property.</summary>
    public static void WriteRedacted(ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    var name = reader.GetString()!;
                    writer.WritePropertyName(name);
                    if (!IsSecret(name)) break;
                    reader.Read();
                    reader.Skip(); // the whole value, even an object or an array
                    writer.WriteStringValue(Redacted);
                    break;
                case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                case JsonTokenType.String: writer.WriteStringValue(reader.GetString()); break;
                case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                case JsonTokenType.Null: writer.WriteNullValue(); break;
            }
        }
    }

    /// <summary>The redacted JSON as text (for tests and small answers).</summary>
    public static string Redact(ReadOnlySpan<byte> json)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, AuditEvent.WriterOptions)) WriteRedacted(json, writer);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
