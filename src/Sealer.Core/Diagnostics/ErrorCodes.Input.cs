namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>An image reference (in a manifest, chart, image list or the project) is malformed.</summary>
    public const string InvalidImageReference = "SEA2000";

    /// <summary>A rootfs destination (SealerFile Destination, app file) is absolute or climbs out with '..'.</summary>
    public const string InvalidRootfsPath = "SEA2001";

    /// <summary>SealerLaunch and SealerCmds are both set (Kubefile LAUNCH and CMDS are exclusive).</summary>
    public const string LaunchAndCmdsBothSet = "SEA2002";

    /// <summary>SealerLaunch (or APPCMDS/APPENV) names an app that no SealerApp item (nor the base image) defines.</summary>
    public const string UnknownApp = "SEA2003";

    /// <summary>A SealerApp has an unknown Type (helm, kube or shell) or no files.</summary>
    public const string InvalidApp = "SEA2004";

    /// <summary>A project property has an invalid value (image name, tag, platform list, label, env).</summary>
    public const string InvalidProjectValue = "SEA2005";

    /// <summary>A file or directory the project names (SealerFile, HelmChart, KubeManifest, ImageList, app source) does not exist.</summary>
    public const string InputFileMissing = "SEA2006";

    /// <summary>Two items put different files at the same rootfs path.</summary>
    public const string RootfsPathConflict = "SEA2007";
}
