using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// The remoting transport of <see cref="ClusterTlsOptions"/>: this node's certificate, the cluster's CA, and the
/// check every peer's certificate must pass.
/// </summary>
public sealed class ClusterTransport
{
    private ClusterTransport(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The only trust anchor for peers' certificates.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>Loads the files <paramref name="tls"/> names; throws <see cref="InvalidDataException"/> naming the key at fault.</summary>
    public static ClusterTransport Load(ClusterTlsOptions tls)
    {
        const string section = ClusterTlsOptions.Section;
        var authority = Read($"{section}:CaCertificatePath", tls.CaCertificatePath,
            path => X509CertificateLoader.LoadCertificateFromFile(path));
        var certificate = Read($"{section}:CertificatePath", tls.CertificatePath,
            path => X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword));
        if (!certificate.HasPrivateKey)
            throw new InvalidDataException($"{section}:CertificatePath must hold the node's private key as well as its certificate");
        var transport = new ClusterTransport(certificate, authority);
        if (transport.ChainError(certificate, extra: null) is { } error)
            throw new InvalidDataException($"{section}:CertificatePath is not a certificate of {section}:CaCertificatePath's CA ({error})");
        return transport;
    }

    /// <summary>Remoting over TLS with this node's certificate; a peer is accepted only when its certificate passes <see cref="Accepts"/>.</summary>
    public void Apply(RemoteOptions remote)
    {
        remote.EnableSsl = true;
        remote.Ssl = new SslOptions
        {
            X509Certificate = Certificate,
            RequireMutualAuthentication = true,
            SuppressValidation = false,
            // Per-node certificates and addresses that may be IPs: membership is proven by the CA, not by a name.
            ValidateCertificateHostname = false,
            CustomValidator = Validator,
        };
    }

    /// <summary>Akka's certificate check for both directions of a connection: <see cref="Accepts"/>.</summary>
    public CertificateValidationCallback Validator => (certificate, chain, peer, _, log) => Accepts(certificate, chain, peer, log);

    /// <summary>The peer presented a certificate that chains to the cluster's CA and is valid now.</summary>
    public bool Accepts(X509Certificate2? certificate, X509Chain? chain, string peer, ILoggingAdapter log)
    {
        if (certificate is null)
        {
            log.Warning("Refused cluster peer {0}: it presented no certificate", peer);
            return false;
        }
        var extra = chain?.ChainElements.Select(element => element.Certificate).ToList();
        if (ChainError(certificate, extra) is not { } error) return true;
        log.Warning("Refused cluster peer {0}: its certificate {1} is not from the cluster's CA ({2})", peer, certificate.Subject, error);
        return false;
    }

    /// <summary>Why <paramref name="certificate"/> does not chain to <see cref="Authority"/>; null when it does.</summary>
    private string? ChainError(X509Certificate2 certificate, IReadOnlyList<X509Certificate2>? extra)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        // A private CA publishes no revocation lists: a node is removed by replacing the CA and the nodes' certificates.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var intermediate in extra ?? []) chain.ChainPolicy.ExtraStore.Add(intermediate);
        if (chain.Build(certificate)) return null;
        var statuses = chain.ChainStatus.Select(status => status.Status).Where(status => status != X509ChainStatusFlags.NoError);
        return string.Join(", ", statuses.Distinct());
    }

    private static X509Certificate2 Read(string key, string? path, Func<string, X509Certificate2> load)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new InvalidDataException($"{key} is required with {ClusterTlsOptions.Section}:CertificatePath");
        if (!File.Exists(path)) throw new InvalidDataException($"{key} names no file ({path})");
        try
        {
            return load(path);
        }
        catch (CryptographicException e)
        {
            var hint = key.EndsWith(":CertificatePath", StringComparison.Ordinal)
                ? $" with {ClusterTlsOptions.Section}:CertificatePassword" : "";
            throw new InvalidDataException($"{key} ({path}) could not be read{hint}: {e.Message}");
        }
    }
}

/// <summary>
/// The service's cluster transport rules (the command-line tools start no remoting and skip them): a node other
/// hosts can reach runs TLS unless explicitly disabled, and the certificates it names load and fit together.
/// </summary>
public sealed class ClusterTransportValidation : IValidateOptions<ClusterNodeOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterNodeOptions o)
    {
        const string section = ClusterTlsOptions.Section;
        var tls = o.Tls;
        if (tls.Disabled)
            return AkkaUsersOptionsValidation.Check(
                (!string.IsNullOrWhiteSpace(tls.CertificatePath),
                    $"{section}:Disabled is true and {section}:CertificatePath is set: remove one of them"));
        if (!tls.IsEnabled)
            return AkkaUsersOptionsValidation.Check(
                (o.IsExposed,
                    $"{section}:CertificatePath is required when {ClusterNodeOptions.Section}:SeedNodes is set or "
                    + $"{ClusterNodeOptions.Section}:Hostname is not loopback (nodes authenticate each other by certificate; "
                    + $"{section}:Disabled=true runs remoting unauthenticated)"));
        try
        {
            ClusterTransport.Load(tls);
            return ValidateOptionsResult.Success;
        }
        catch (InvalidDataException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
