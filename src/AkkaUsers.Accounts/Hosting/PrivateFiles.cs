using System.Security.Cryptography;
using System.Text;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// The data directory and the files the service writes there: the journal holds password hashes and personal data,
/// and the secrets sign tokens, so on Unix only the service's own user may read them (directories 0700, files 0600).
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="path"/> and any missing parent as 0700; an existing directory is left as it is.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>
    /// Creates <paramref name="path"/> empty as 0600 when it does not exist, and makes an existing one 0600: SQLite
    /// creates its file 0644, and its -wal and -shm files take the database file's mode, so this covers all three.
    /// </summary>
    public static void CreateOrRestrict(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            if (File.GetUnixFileMode(path) != FileMode) File.SetUnixFileMode(path, FileMode);
        }
    }

    /// <summary>
    /// The secret stored in <paramref name="fileName"/> of <paramref name="directory"/>; made (32 random bytes, base64) and
    /// written 0600 on the first call. A node that is started twice at once reads the secret the other one wrote.
    /// </summary>
    public static string ReadOrCreateSecret(string directory, string fileName)
    {
        var path = Path.Combine(directory, fileName);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();

        CreateDirectory(directory);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = FileMode;
        try
        {
            using var writer = new StreamWriter(path, Encoding.ASCII, options);
            writer.Write(secret);
            return secret;
        }
        catch (IOException) when (File.Exists(path))
        {
            return File.ReadAllText(path).Trim(); // another start won the race to create it
        }
    }
}
