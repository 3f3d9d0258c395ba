using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AkkaUsers.Harness;

/// <summary>
/// A throwaway CA for one test cluster and a node certificate it issued, written to a folder as the operator's
/// files would be (ca.crt in PEM, node.pfx with a password); more certificates on demand, from it or from nobody.
/// </summary>
public sealed class ClusterCertificates : IDisposable
{
    private ClusterCertificates(X509Certificate2 authority, string directory)
    {
        Authority = authority;
        AuthorityPath = Path.Combine(directory, "ca.crt");
        NodePath = Path.Combine(directory, "node.pfx");
        NodePassword = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(AuthorityPath, authority.ExportCertificatePem());
        using var node = Issue("akka-users-node");
        File.WriteAllBytes(NodePath, node.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, NodePassword));
    }

    /// <summary>The CA's certificate with its private key.</summary>
    public X509Certificate2 Authority { get; }

    public string AuthorityPath { get; }
    public string NodePath { get; }
    public string NodePassword { get; }

    /// <summary>A node's Cluster:Tls settings, as environment variables.</summary>
    public IReadOnlyDictionary<string, string> NodeSettings => new Dictionary<string, string>
    {
        ["Cluster__Tls__CertificatePath"] = NodePath,
        ["Cluster__Tls__CertificatePassword"] = NodePassword,
        ["Cluster__Tls__CaCertificatePath"] = AuthorityPath,
    };

    public static ClusterCertificates Create(string directory)
    {
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=akka-users test cluster CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new ClusterCertificates(request.CreateSelfSigned(now.AddMinutes(-10), now.AddDays(2)), directory);
    }

    /// <summary>A certificate with its private key, issued by this cluster's CA.</summary>
    public X509Certificate2 Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        using var issued = NodeRequest(name, key).Create(Authority, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A certificate with its private key that no CA issued: what a stranger can make for themselves.</summary>
    public static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        return NodeRequest(name, key).CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    private static CertificateRequest NodeRequest(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request;
    }

    public void Dispose() => Authority.Dispose();
}
