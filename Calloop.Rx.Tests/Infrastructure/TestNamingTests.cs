using System.Reflection;
using System.Text.RegularExpressions;
using Calloop.Rx.Tests.Scheduling;
using Calloop.Rx.Tests.Testing;

namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// Keeps one naming style for tests, <c>UnitOfWork_StateOrCondition_ExpectedBehaviour</c>: two or three segments
/// joined by underscores, each one PascalCase, so a name never reads as a sentence in snake case. Tests ported from Rx.NET keep
/// their upstream names, which trace them to the original suite.
/// </summary>
public partial class TestNamingTests
{
    /// <summary>Classes that port Rx.NET suites under the upstream test names.</summary>
    private static readonly Type[] s_upstreamNamed = [typeof(LoopSchedulerTests), typeof(TimeOperatorConformanceTests)];

    [Fact]
    public void TestMethods_InThisAssembly_UsePascalCaseSegments()
    {
        string[] offenders =
        [
            .. typeof(TestNamingTests).Assembly.GetTypes()
                .Where(type => !s_upstreamNamed.Contains(type))
                .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                .Where(method => method.IsDefined(typeof(FactAttribute), inherit: true))
                .Where(method => !HouseStyle().IsMatch(method.Name))
                .Select(method => $"{method.DeclaringType!.Name}.{method.Name}"),
        ];

        Assert.True(offenders.Length == 0, "not UnitOfWork_Condition_Outcome: " + string.Join(", ", offenders));
    }

    [Theory]
    [InlineData("Stop_BeforeRun_IsForgotten", true)]
    [InlineData("Timer_Update_MovesTheDeadline", true)]
    [InlineData("Timer_deadline_moves_with_Update", false)]
    [InlineData("ping_closed", false)]
    [InlineData("Delay", false)]
    [InlineData("Watch_Remove_RemovesEveryKernelWatch_ThenCompletes", false)]
    public void HouseStyle_ForAName_TellsSegmentsFromSentences(string name, bool expected)
    {
        // Guards the check above against passing vacuously (a pattern that accepts everything).
        Assert.Equal(expected, HouseStyle().IsMatch(name));
    }

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(?:_[A-Z0-9][A-Za-z0-9]*){1,2}$")]
    private static partial Regex HouseStyle();
}
