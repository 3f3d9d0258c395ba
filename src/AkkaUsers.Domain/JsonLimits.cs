using System.Text.Json;

namespace AkkaUsers.Domain;

/// <summary>
/// How deep JSON may nest, from the outside in. A client's values nest far less than anything is stored at, and
/// everything is stored far shallower than the service's own readers and writers allow, so that a stored value
/// still fits inside any envelope the service wraps it in (a snapshot, a read-model row, an HTTP answer, the audit).
/// </summary>
public static class JsonLimits
{
    /// <summary>The objects and arrays a field of a request body may nest (the field's own value counts as one).</summary>
    public const int FieldDepth = 32;

    /// <summary>An event is persisted only when it nests at most this deep (earlier versions accepted metadata up to this).</summary>
    public const int StoredDepth = 64;

    /// <summary>What every reader and writer of the service's JSON allows: a stored value plus any envelope around it.</summary>
    public const int MaxDepth = 2 * StoredDepth;

    /// <summary>The objects and arrays <paramref name="value"/> nests, itself included (0 for a string, number, boolean or null).</summary>
    public static int DepthOf(JsonElement value)
    {
        var deepest = 0;
        var pending = new Stack<(JsonElement Value, int Depth)>();
        pending.Push((value, 1));
        while (pending.TryPop(out var next))
        {
            var children = next.Value.ValueKind switch
            {
                JsonValueKind.Object => next.Value.EnumerateObject().Select(p => p.Value),
                JsonValueKind.Array => next.Value.EnumerateArray(),
                _ => null,
            };
            if (children is null) continue;
            deepest = Math.Max(deepest, next.Depth);
            foreach (var child in children) pending.Push((child, next.Depth + 1));
        }
        return deepest;
    }

    /// <summary>
    /// False when a string or a property name in <paramref name="value"/> is not Unicode text: invalid UTF-8 or an
    /// escaped lone surrogate ("\udfff"), which no writer can serialize back faithfully.
    /// </summary>
    public static bool IsText(JsonElement value)
    {
        var pending = new Stack<JsonElement>();
        pending.Push(value);
        try
        {
            while (pending.TryPop(out var next))
            {
                switch (next.ValueKind)
                {
                    case JsonValueKind.String:
                        _ = next.GetString();
                        break;
                    case JsonValueKind.Object:
                        foreach (var property in next.EnumerateObject())
                        {
                            _ = property.Name;
                            pending.Push(property.Value);
                        }
                        break;
                    case JsonValueKind.Array:
                        foreach (var item in next.EnumerateArray()) pending.Push(item);
                        break;
                }
            }
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
