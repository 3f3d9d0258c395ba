using System.Text.RegularExpressions;
using AkkaUsers.Api.Configuration;

namespace AkkaUsers.Api.Tests;

/// <summary>A JWT secret written anywhere in the repository (docs, examples, compose, tests) is refused at start.</summary>
public sealed partial class PublishedSecretsTests
{
    [GeneratedRegex("""(?:Jwt__Secret|JWT_SECRET|Jwt:Secret|Jwt__PreviousSecrets|Jwt:PreviousSecrets)["']?[ \t]*[=:]-?[ \t]*["']?(?<value>[^\s"'$;}?]+)""")]
    private static partial Regex SecretAssignment();

    [Fact]
    public void Every_secret_written_in_the_repository_is_refused()
    {
        var root = new DirectoryInfo(ServiceProcess.RepositoryRoot);
        var files = root.EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => !f.FullName.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git" or "node_modules"))
            .Where(f => f.Extension is ".md" or ".yml" or ".yaml" or ".env" or ".example" or ".json" or ".cs" or ".sh" or "");

        var found = (
            from file in files
            from Match match in SecretAssignment().Matches(File.ReadAllText(file.FullName))
            from value in match.Groups["value"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
            select (File: Path.GetRelativePath(root.FullName, file.FullName), Value: value)).ToList();

        Assert.NotEmpty(found);
        Assert.All(found, f => Assert.True(ApiOptionsValidation.Weakness(f.Value) is not null, $"{f.File}: \"{f.Value}\" is accepted"));
    }
}
