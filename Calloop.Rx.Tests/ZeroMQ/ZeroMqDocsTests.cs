using System.Text.RegularExpressions;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>The ZeroMQ chapter quotes the library and the sample: its code blocks must stay exact copies.</summary>
public partial class ZeroMqDocsTests
{
    [Fact]
    public void Chapter_code_blocks_are_copied_from_the_sources()
    {
        string root = RepositoryRoot();
        string chapter = File.ReadAllText(Path.Combine(root, "docs", "03-composition-zeromq.md"));
        MatchCollection blocks = CodeBlock().Matches(chapter);
        Assert.NotEmpty(blocks);

        foreach (Match block in blocks)
        {
            string[] lines = block.Groups["body"].Value.Split('\n');
            Match from = FromLine().Match(lines[0]);
            Assert.True(from.Success, $"a code block does not start with '// from <path>': {lines[0]}");
            string path = from.Groups["path"].Value;
            string[] source = File.ReadAllLines(Path.Combine(root, path));
            Assert.True(Occurs(lines[1..], source), $"a code block quoting {path} no longer matches it:\n{block.Value}");
        }
    }

    /// <summary>Whether <paramref name="quote"/> is a run of <paramref name="source"/> lines, all indented by one common prefix.</summary>
    private static bool Occurs(string[] quote, string[] source)
    {
        for (int start = 0; start + quote.Length <= source.Length; start++)
        {
            string first = source[start];
            if (!first.EndsWith(quote[0], StringComparison.Ordinal))
            {
                continue;
            }

            string indent = first[..^quote[0].Length];
            if (indent.Trim().Length != 0)
            {
                continue;
            }

            bool all = true;
            for (int k = 1; k < quote.Length && all; k++)
            {
                all = quote[k].Length == 0 ? source[start + k].Trim().Length == 0 : source[start + k] == indent + quote[k];
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Calloop.Rx.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Calloop.Rx.sln) is not above the test assembly");
    }

    [GeneratedRegex("```csharp\n(?<body>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex("^// from (?<path>\\S+)$")]
    private static partial Regex FromLine();
}
