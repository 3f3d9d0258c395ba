using AkkaUsers.Cli;

// Ctrl+C stops a long export or verify cleanly instead of killing it mid-line.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
await using var output = Console.OpenStandardOutput();
return await AkkaUsersCli.RunAsync(args, output, Console.Error, cancel.Token, terminal: !Console.IsErrorRedirected);
