namespace Compiler.Runtime.Server;

/// <summary>
/// A request the server refuses, reported as OpenAI's <c>{"error": {"message", "type", "param", "code"}}</c> with
/// <see cref="Status"/>: 400 invalid_request_error, 401 authentication_error, 404 not_found_error, 500 internal_server_error.
/// </summary>
internal sealed class ApiException : Exception
{
    public ApiException(int status, string message, string? param = null, string? type = null, string? code = null)
        : base(message)
    {
        Status = status;
        Param = param;
        Type = type ?? TypeFor(status);
        Code = code;
    }

    public int Status { get; }
    public string? Param { get; }
    public string Type { get; }
    public string? Code { get; }

    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, code: code);

    public static string TypeFor(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        404 => "not_found_error",
        503 => "service_unavailable_error",
        _ => "internal_server_error",
    };
}
