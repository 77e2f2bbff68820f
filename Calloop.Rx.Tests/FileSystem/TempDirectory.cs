namespace Calloop.Rx.Tests.FileSystem;

/// <summary>A fresh directory under the system's temporary directory, deleted with everything in it on disposal.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("calloop-watch-").FullName;
    }

    public string Path { get; }

    /// <summary>The full path of <paramref name="name"/> inside the directory.</summary>
    public string this[string name] => System.IO.Path.Join(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
