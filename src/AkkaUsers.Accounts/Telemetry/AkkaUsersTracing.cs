using System.Diagnostics;

namespace AkkaUsers.Accounts.Telemetry;

/// <summary>
/// The service's own spans: each ask to an entity and each password hash or verification, as children of
/// whatever span is current (the HTTP request's), so one request is one trace.
/// </summary>
public static class AkkaUsersTracing
{
    public static readonly ActivitySource Source = new(AkkaUsersMetrics.Name);
}
