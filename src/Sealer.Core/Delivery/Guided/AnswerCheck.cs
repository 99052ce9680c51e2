namespace Sealer.Core.Delivery.Guided;

/// <summary>
/// What a guided run's prompt shows under an answer while it is typed: the problem (Enter is refused), or a short
/// confirmation of what was understood (<c>3 hosts: 10.0.0.1-10.0.0.3</c>).
/// </summary>
/// <param name="Problem">what is wrong, in plain words; null when the answer can be taken</param>
/// <param name="Understood">what a good answer means (may be empty); null when there is a problem</param>
public sealed record AnswerCheck(string? Problem, string? Understood)
{
    public bool IsGood => Problem is null;

    public static AnswerCheck Good(string understood = "") => new(null, understood);

    public static AnswerCheck Bad(string problem) => new(problem, null);

    /// <summary>A check from a validator that returns a problem or null.</summary>
    public static AnswerCheck From(string? problem, string understood = "") => problem is null ? Good(understood) : Bad(problem);
}
