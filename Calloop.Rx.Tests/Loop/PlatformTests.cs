namespace Calloop.Rx.Tests.Loop;

public class PlatformTests
{
    [Fact]
    public void Another_operating_system_gets_PlatformNotSupportedException_naming_it()
    {
        var error = Assert.Throws<PlatformNotSupportedException>(() => LoopPlatform.ThrowIfUnsupported(isLinux: false));

        Assert.Contains("Linux only", error.Message);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.OSDescription, error.Message);
    }

    [Fact]
    public void The_library_is_not_marked_Linux_only_so_its_users_get_no_CA1416()
    {
        var marks = typeof(EventLoop).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.SupportedOSPlatformAttribute), inherit: false);

        Assert.Empty(marks);
        LoopPlatform.ThrowIfUnsupported(isLinux: true);
    }
}
