using System.Reflection;
using System.Text.RegularExpressions;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Packaging;

/// <summary>
/// The public surface of each package is recorded in its PublicAPI files, which the build checks (the public API
/// analyzer fails it on any unrecorded change). This cross-check from the compiled assemblies keeps the record honest
/// even if the analyzer were switched off: every public type is listed, and nothing listed is gone.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string, string> Packages => new()
    {
        { "Calloop.Rx", typeof(EventLoop).Assembly.Location },
        { "Calloop.Rx.ZeroMQ", typeof(Calloop.Rx.ZeroMQ.ZmqSource).Assembly.Location },
        { "Calloop.Rx.Testing", typeof(Calloop.Rx.Testing.LoopTestScheduler).Assembly.Location },
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_EveryPublicType_IsRecordedAndExists(string package, string assemblyPath)
    {
        string[] recorded = RecordedApi(package);
        HashSet<string> recordedTypes = [.. recorded.Select(TypeOf).OfType<string>()];
        HashSet<string> publicTypes = [.. Assembly.LoadFrom(assemblyPath).GetExportedTypes().Select(Format)];

        Assert.Empty(publicTypes.Except(recordedTypes));
        Assert.Empty(recordedTypes.Except(publicTypes));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_Record_IsNullableAwareAndCheckedByTheBuild(string package, string assemblyPath)
    {
        Assert.True(File.Exists(assemblyPath));
        foreach (string file in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
        {
            string path = Path.Combine(Repository.Root, package, file);
            Assert.StartsWith("#nullable enable", File.ReadAllText(path), StringComparison.Ordinal);
        }

        string props = File.ReadAllText(Path.Combine(Repository.Root, "Directory.Build.props"));
        Assert.Contains("Microsoft.CodeAnalysis.PublicApiAnalyzers", props, StringComparison.Ordinal);
    }

    private static string[] RecordedApi(string package) =>
        [.. new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }
            .SelectMany(file => File.ReadAllLines(Path.Combine(Repository.Root, package, file)))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))];

    /// <summary>The type a line declares (a line that is only a type name, perhaps with modifiers), else null.</summary>
    private static string? TypeOf(string line)
    {
        string symbol = Regex.Replace(line, @"^((abstract|static|override|virtual|sealed|const|readonly|~)\s+)*", string.Empty);
        return symbol.Contains(' ', StringComparison.Ordinal) || symbol.Contains('(', StringComparison.Ordinal) ? null : symbol;
    }

    /// <summary>A type's name as the record writes it: <c>Namespace.Outer.Inner&lt;T&gt;</c>.</summary>
    private static string Format(Type type)
    {
        string name = type.IsNested ? $"{Format(type.DeclaringType!)}.{Plain(type)}" : $"{type.Namespace}.{Plain(type)}";
        return name;

        static string Plain(Type type)
        {
            string name = type.Name;
            int tick = name.IndexOf('`', StringComparison.Ordinal);
            if (tick < 0)
            {
                return name;
            }

            // Only the parameters this type adds, not those of the type it is nested in.
            Type[] own = type.GetGenericArguments()[(type.DeclaringType?.GetGenericArguments().Length ?? 0)..];
            return $"{name[..tick]}<{string.Join(", ", own.Select(a => a.Name))}>";
        }
    }
}
