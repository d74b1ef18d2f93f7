namespace Acme.Hooks;

public static class Settings
{
    public const string WebhookSecret = "DiyK0nymEMzV6*1-CiZITwxX";
}
