using System.Text.RegularExpressions;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Docs;

/// <summary>
/// Keeps the documentation honest: every ```csharp block in docs/*.md and README.md starts with a
/// <c>// from &lt;path&gt;</c> line naming a file of the repository, and each of its non-empty lines (whitespace
/// trimmed) appears in that file, in the same order. The named files are compiled and tested, so the snippets are too.
/// Snippets show only what a user can write: no helper of this test project appears in them. Test classes and test
/// methods a document names in code style exist.
/// </summary>
public partial class DocSnippetsTests
{
    private static readonly string s_root = Repository.Root + Path.DirectorySeparatorChar;

    public static TheoryData<string> Documents() => [.. DocumentPaths()];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Snippets_InEveryDocument_UseNoTestOnlyHelper(string document)
    {
        List<Snippet> snippets = ReadSnippets(Path.Combine(s_root, document));

        // A type the document itself declares (the tutorial's custom source) is the reader's own code.
        var declared = snippets.SelectMany(s => s.Lines).SelectMany(l => DeclaredType().Matches(l)).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (Snippet snippet in snippets)
        {
            foreach (string line in snippet.Lines.SkipWhile(l => l.Trim().Length == 0).Skip(1))
            {
                failures.AddRange(TestOnlyIdentifiers(line).Where(name => !declared.Contains(name)).Select(name => $"{document}:{snippet.Line}: {name} is test-only: {line.Trim()}"));
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void TestOnlyIdentifiers_InASnippetLine_AreRecognised()
    {
        // Guards the check above against passing vacuously (reflection finding nothing, a regex matching nothing).
        Assert.Equal(["DispatchUntil"], TestOnlyIdentifiers("loop.DispatchUntil(() => done); // TestSys in a comment"));
        Assert.Equal(["TestSys"], TestOnlyIdentifiers("var (a, b) = TestSys.SocketPair();"));
        Assert.Equal(["ContractObserver"], TestOnlyIdentifiers("var o = new ContractObserver<int>(loop, \"FdPair\");"));
        Assert.Empty(TestOnlyIdentifiers("using var subscription = loop.Timer(TimeSpan.Zero).Subscribe(values.Add, loop.Stop);"));
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Snippets_InEveryDocument_AreCopiedFromTheNamedFiles(string document)
    {
        var failures = new List<string>();
        foreach (Snippet snippet in ReadSnippets(Path.Combine(s_root, document)))
        {
            string where = $"{document}:{snippet.Line}";
            Match from = FromLine().Match(snippet.Lines.FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? string.Empty);
            if (!from.Success)
            {
                failures.Add($"{where}: a csharp block must start with a '// from <path>' line");
                continue;
            }

            string source = Path.GetFullPath(Path.Combine(s_root, from.Groups[1].Value));
            if (!source.StartsWith(s_root, StringComparison.Ordinal) || !File.Exists(source))
            {
                failures.Add($"{where}: '{from.Groups[1].Value}' is not a file of the repository");
                continue;
            }

            string[] sourceLines = [.. File.ReadAllLines(source).Select(l => l.Trim())];
            int cursor = 0;
            foreach (string line in snippet.Lines.SkipWhile(l => l.Trim().Length == 0).Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                int found = Array.IndexOf(sourceLines, line, cursor);
                if (found < 0)
                {
                    failures.Add(Array.IndexOf(sourceLines, line) < 0
                        ? $"{where}: not in {from.Groups[1].Value}: {line}"
                        : $"{where}: out of order with {from.Groups[1].Value}: {line}");
                    continue;
                }

                cursor = found + 1;
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Documents_Together_ContainCheckedSnippets()
    {
        // Guards the check above against passing vacuously (a renamed folder, a changed fence style).
        int snippets = DocumentPaths().Sum(document => ReadSnippets(Path.Combine(s_root, document)).Count);
        Assert.True(snippets >= 20, $"only {snippets} csharp snippets found");
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Documents_LinksAndTestNames_PointAtWhatExists(string document)
    {
        string text = File.ReadAllText(Path.Combine(s_root, document));
        string folder = Path.GetDirectoryName(Path.Combine(s_root, document))!;
        var failures = new List<string>();
        foreach (Match link in RelativeLink().Matches(text))
        {
            string target = Path.GetFullPath(Path.Combine(folder, link.Groups[1].Value));
            if (!File.Exists(target) && !Directory.Exists(target))
            {
                failures.Add($"link to '{link.Groups[1].Value}', which is not in the repository");
            }
        }

        var testClasses = typeof(DocSnippetsTests).Assembly.GetTypes().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string name in TestClassName().Matches(text).Select(m => m.Value).Distinct())
        {
            if (!testClasses.Contains(name))
            {
                failures.Add($"names the test class {name}, which does not exist");
            }
        }

        foreach (string name in TestMethodName().Matches(text).Select(m => m.Groups["name"].Value).Distinct())
        {
            if (!s_testMethods.Contains(name))
            {
                failures.Add($"names the test {name}, which does not exist");
            }
        }

        if (text.Contains("(coming)", StringComparison.Ordinal) || text.Contains(", coming,", StringComparison.Ordinal))
        {
            failures.Add("still announces a chapter as coming");
        }

        Assert.True(failures.Count == 0, document + ": " + string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void TestMethodNames_InDocumentText_AreRecognised()
    {
        // Guards the test-name check above against passing vacuously (a regex matching nothing, no test methods found).
        string text = "`Loop/OrderingTests.cs::Stop_BeforeRun_IsForgotten`, `::Stop_FromAnotherThread_EndsRun`, `ZMQ_FD`, `O_CLOEXEC`";
        string[] names = [.. TestMethodName().Matches(text).Select(m => m.Groups["name"].Value)];

        Assert.Equal(["Stop_BeforeRun_IsForgotten", "Stop_FromAnotherThread_EndsRun"], names);
        Assert.All(names, name => Assert.Contains(name, s_testMethods));
    }

    /// <summary>
    /// The identifiers in a line of code (comments and string literals aside) that name a type this test assembly
    /// declares, or an extension method it declares. A capitalised name called as a method (<c>Frames(...)</c>) is a
    /// local function of the quoted file, not the type of the same name.
    /// </summary>
    private static List<string> TestOnlyIdentifiers(string line)
    {
        string code = StringLiteral().Replace(line.Split("//")[0], "\"\"");
        var found = new List<string>();
        foreach (Match m in Identifier().Matches(code))
        {
            string name = m.Groups["name"].Value;
            bool member = m.Groups["dot"].Success;
            bool call = m.Groups["call"].Success && !m.Groups["new"].Success;
            if ((!member && !call && s_testTypes.Contains(name)) || (member && s_testExtensions.Contains(name)))
            {
                found.Add(name);
            }
        }

        return found;
    }

    private static readonly HashSet<string> s_testTypes =
        typeof(DocSnippetsTests).Assembly.GetTypes()
            .Select(t => t.Name.Split('`')[0])
            .Where(n => !n.Contains('<', StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    private static readonly HashSet<string> s_testExtensions =
        typeof(DocSnippetsTests).Assembly.GetTypes()
            .Where(t => t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            .Where(m => m.IsDefined(typeof(System.Runtime.CompilerServices.ExtensionAttribute), false))
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);

    private static readonly HashSet<string> s_testMethods =
        typeof(DocSnippetsTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.IsDefined(typeof(FactAttribute), inherit: true))
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> DocumentPaths() =>
        Directory.GetFiles(Path.Combine(s_root, "docs"), "*.md")
            .Order(StringComparer.Ordinal)
            .Select(path => Path.GetRelativePath(s_root, path))
            .Append("README.md");

    private static List<Snippet> ReadSnippets(string path)
    {
        var snippets = new List<Snippet>();
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].TrimStart().StartsWith("```csharp", StringComparison.Ordinal))
            {
                continue;
            }

            int start = i + 1;
            int end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            Assert.True(end < lines.Length, $"{path}:{i + 1}: unclosed code block");
            snippets.Add(new Snippet(i + 1, lines[start..end]));
            i = end;
        }

        return snippets;
    }

    [GeneratedRegex(@"^// from (\S+)$")]
    private static partial Regex FromLine();

    /// <summary>A markdown link to a relative path (no scheme, not a bare #anchor), without its #fragment.</summary>
    [GeneratedRegex(@"\]\((?![a-z]+:)([^)#\s]+)(?:#[^)]*)?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"(?<new>\bnew\s+)?(?<dot>\.\s*)?\b(?<name>[A-Za-z_][A-Za-z0-9_]*)\b(?<call>\s*\()?")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"(?:\$|u8)?@?""(?:[^""\\]|\\.)*""(?:u8)?")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\b(?:class|struct|record|interface|enum)\s+([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex DeclaredType();

    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9]*Tests\b")]
    private static partial Regex TestClassName();

    /// <summary>
    /// A test method named in code style, alone or after its file (<c>Loop/OrderingTests.cs::Stop_BeforeRun_IsForgotten</c>,
    /// <c>::Name</c>): segments joined by underscores, the first one capitalised and not all capitals (so <c>ZMQ_FD</c>
    /// and <c>O_CLOEXEC</c> are not taken for tests).
    /// </summary>
    [GeneratedRegex(@"`(?:[\w/.]+\.cs)?(?:::)?(?<name>[A-Z][a-z0-9][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)`")]
    private static partial Regex TestMethodName();

    private sealed record Snippet(int Line, string[] Lines);
}
