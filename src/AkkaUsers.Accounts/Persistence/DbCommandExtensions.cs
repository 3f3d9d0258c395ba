using System.Data.Common;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>Parameters by name, the same way for every provider.</summary>
public static class DbCommandExtensions
{
    public static DbCommand AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>Replaces every parameter: one command executed many times with different values.</summary>
    public static DbCommand SetParameters(this DbCommand command, params (string Name, object? Value)[] parameters)
    {
        command.Parameters.Clear();
        foreach (var (name, value) in parameters) command.AddParameter(name, value);
        return command;
    }
}
