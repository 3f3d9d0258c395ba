using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaUsers.Harness;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// A node other hosts can reach must authenticate its peers by certificate: without one, or with certificate files
/// that do not load or do not fit together, the real process stops at start with one line naming the key.
/// </summary>
public sealed class ClusterTlsConfigurationTests : IDisposable
{
    private const string Seeds = "Cluster__SeedNodes=akka.ssl.tcp://akka-users@127.0.0.1:4053;Cluster__Port=4053";
    private const string PlainSeeds = "Cluster__SeedNodes=akka.tcp://akka-users@127.0.0.1:4053;Cluster__Port=4053";
    private const string Secret = "Jwt__Secret={secret}";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
    private readonly ClusterCertificates _certificates;

    public ClusterTlsConfigurationTests()
    {
        _certificates = ClusterCertificates.Create(_directory);
    }

    [Theory]
    [InlineData($"{Seeds};{Secret}", "Cluster:Tls:CertificatePath is required when Cluster:SeedNodes is set")]
    [InlineData("Cluster__Hostname=0.0.0.0", "Cluster:Tls:CertificatePath is required when Cluster:SeedNodes is set or Cluster:Hostname is not loopback")]
    [InlineData($"{PlainSeeds};{Secret};Cluster__Tls__CertificatePath={{node}};Cluster__Tls__CertificatePassword={{password}};Cluster__Tls__CaCertificatePath={{ca}}",
        "Cluster:SeedNodes must be akka.ssl.tcp://akka-users@host:port addresses (Cluster:Tls is on)")]
    [InlineData($"{Seeds};{Secret};Cluster__Tls__Disabled=true", "Cluster:SeedNodes must be akka.tcp://akka-users@host:port addresses")]
    [InlineData("Cluster__Tls__Disabled=true;Cluster__Tls__CertificatePath={node}", "Cluster:Tls:Disabled is true and Cluster:Tls:CertificatePath is set")]
    [InlineData("Cluster__Tls__CertificatePath={node};Cluster__Tls__CertificatePassword={password}", "Cluster:Tls:CaCertificatePath is required")]
    [InlineData("Cluster__Tls__CertificatePath={directory}/missing.pfx;Cluster__Tls__CaCertificatePath={ca}", "Cluster:Tls:CertificatePath names no file")]
    [InlineData("Cluster__Tls__CertificatePath={node};Cluster__Tls__CertificatePassword=wrong;Cluster__Tls__CaCertificatePath={ca}",
        "Cluster:Tls:CertificatePath ({node}) could not be read with Cluster:Tls:CertificatePassword")]
    [InlineData("Cluster__Tls__CertificatePath={node};Cluster__Tls__CertificatePassword={password};Cluster__Tls__CaCertificatePath={node}",
        "Cluster:Tls:CaCertificatePath ({node}) could not be read")]
    [InlineData("Cluster__Tls__CertificatePath={stranger};Cluster__Tls__CertificatePassword={password};Cluster__Tls__CaCertificatePath={ca}",
        "Cluster:Tls:CertificatePath is not a certificate of Cluster:Tls:CaCertificatePath's CA")]
    [InlineData("Cluster__Tls__CertificatePath={public};Cluster__Tls__CaCertificatePath={ca}", "Cluster:Tls:CertificatePath must hold the node's private key")]
    public async Task A_bad_cluster_transport_fails_the_start_with_one_line_naming_the_key(string variables, string message)
    {
        var environment = Fill(variables).Split(';').Select(v => v.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        await using var service = new ServiceProcess(environment);
        var stdout = new List<string>();
        await foreach (var output in service.StandardOutput()) stdout.Add(output);
        await service.WaitForExitAsync();

        Assert.Equal(1, service.ExitCode);
        var line = Assert.Single((await service.StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Invalid configuration: ", line);
        Assert.Contains(Fill(message), line);
        Assert.DoesNotContain(_certificates.NodePassword, line);
        Assert.DoesNotContain(stdout, l => l.Contains("   at ")); // no stack trace
    }

    /// <summary>Puts the files of this test's CA in place of {node}, {password}, {ca}, {stranger}, {public} and {directory}.</summary>
    private string Fill(string text)
    {
        var stranger = Path.Combine(_directory, "stranger.pfx");
        if (text.Contains("{stranger}"))
        {
            using var selfSigned = ClusterCertificates.SelfSigned("akka-users-node");
            File.WriteAllBytes(stranger, selfSigned.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, _certificates.NodePassword));
        }
        var withoutKey = Path.Combine(_directory, "public.pfx");
        if (text.Contains("{public}"))
        {
            using var issued = _certificates.Issue("akka-users-node");
            using var publicOnly = X509CertificateLoader.LoadCertificate(issued.RawData);
            File.WriteAllBytes(withoutKey, publicOnly.Export(X509ContentType.Pkcs12));
        }
        return text.Replace("{node}", _certificates.NodePath).Replace("{password}", _certificates.NodePassword)
            .Replace("{ca}", _certificates.AuthorityPath).Replace("{stranger}", stranger).Replace("{public}", withoutKey)
            .Replace("{directory}", _directory).Replace("{secret}", ApiFactory.Secret);
    }

    public void Dispose()
    {
        _certificates.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
