namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>The repository the tests were built from, for tests that read its files (docs, API records) or run the SDK on it.</summary>
public static class Repository
{
    /// <summary>The folder holding Calloop.Rx.sln, above the test binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Calloop.Rx.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Calloop.Rx.sln above {AppContext.BaseDirectory}.");
    }
}
