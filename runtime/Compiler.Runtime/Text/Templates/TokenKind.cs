namespace Compiler.Runtime.Text.Templates;

internal enum TokenKind
{
    Text,          // template data between tags, whitespace control already applied
    VariableBegin, // {{
    VariableEnd,   // }}
    BlockBegin,    // {%
    BlockEnd,      // %}
    Name,
    String,
    Integer,
    Float,
    Operator,      // + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
    Eof,
}
