namespace AkkaUsers.Harness;

/// <summary>Waits for what no event announces, such as a line in a node's log, by checking it again and again.</summary>
public static class Poll
{
    /// <exception cref="TimeoutException"><paramref name="condition"/> still false after <paramref name="within"/>, with <paramref name="failure"/> as its message.</exception>
    public static Task UntilAsync(Func<bool> condition, TimeSpan within, string failure) =>
        UntilAsync(() => Task.FromResult(condition()), within, failure);

    /// <inheritdoc cref="UntilAsync(Func{bool}, TimeSpan, string)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(failure);
            await Task.Delay(100); // poll interval
        }
    }
}
