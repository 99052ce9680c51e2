// The SDK tests drive real Linux tools (skopeo, umoci, docker-registry, dotnet build).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
