namespace Calloop.Rx.Tests.Loop;

public class PlatformTests
{
    [Fact]
    public void EventLoop_OnAnotherOperatingSystem_ThrowsPlatformNotSupportedNamingIt()
    {
        var error = Assert.Throws<PlatformNotSupportedException>(() => LoopPlatform.ThrowIfUnsupported(isLinux: false));

        Assert.Contains("Linux only", error.Message);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.OSDescription, error.Message);
    }

    [Fact]
    public void Assembly_PlatformAttributes_GiveUsersNoCa1416()
    {
        var marks = typeof(EventLoop).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.SupportedOSPlatformAttribute), inherit: false);

        Assert.Empty(marks);
        LoopPlatform.ThrowIfUnsupported(isLinux: true);
    }
}
