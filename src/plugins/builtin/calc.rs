//! The `calc` built-in: expression evaluation (the `evalexpr` crate, never a hand-written
//! parser) and two finance formulas, loan payment and compound interest.
//!
//! Invariant: every call evaluates in a fresh, read-only context, so an assignment fails and
//! nothing persists between calls.

use crate::text::one_line;
use evalexpr::{ContextWithMutableVariables, DefaultNumericTypes, HashMapContext, Value};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;

/// Arguments of `evaluate`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EvaluateArgs {
    /// An expression such as "2 + 3 * 4", "math::sqrt(2)", "2.0 ^ 10" or "pi * 3.0 ^ 2".
    pub expression: String,
}

/// Arguments of `loan_payment`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LoanArgs {
    /// The amount borrowed.
    #[serde(deserialize_with = "lenient")]
    #[schemars(with = "f64")]
    pub principal: f64,
    /// Yearly interest rate in percent, e.g. 5 for 5%.
    #[serde(deserialize_with = "lenient")]
    #[schemars(with = "f64")]
    pub annual_rate_percent: f64,
    /// How long the loan runs, with its unit as the user gave it: "30 years", "60 months".
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)? (years?|months?)$"))]
    pub term: String,
}

/// Arguments of `compound_interest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CompoundArgs {
    /// The amount invested.
    #[serde(deserialize_with = "lenient")]
    #[schemars(with = "f64")]
    pub principal: f64,
    /// Yearly interest rate in percent, e.g. 5 for 5%.
    #[serde(deserialize_with = "lenient")]
    #[schemars(with = "f64")]
    pub annual_rate_percent: f64,
    /// How many years the money grows.
    #[serde(deserialize_with = "lenient")]
    #[schemars(with = "f64")]
    pub years: f64,
    /// Interest additions a year: 1, 4, 12 (the usual) or 365. Default 12.
    #[serde(default = "monthly")]
    pub compounds_per_year: u32,
}

fn monthly() -> u32 {
    12
}

/// A number, or a string that plainly is one ("200,000", "$200 000", "5%"): clients that do
/// not check arguments against the schema pass what the model wrote.
fn lenient<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    NumberOrText::deserialize(deserializer)?.number()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(f64),
    Text(String),
}

impl NumberOrText {
    fn number<E: serde::de::Error>(self) -> Result<f64, E> {
        match self {
            NumberOrText::Number(n) => Ok(n),
            NumberOrText::Text(text) => crate::tools::repair::number(&text)
                .ok_or_else(|| E::custom(format!("{text:?} is not a number; write e.g. 200000"))),
        }
    }
}

/// The `calc` MCP server.
#[derive(Debug, Clone)]
pub struct CalcServer {
    tool_router: ToolRouter<Self>,
}

impl Default for CalcServer {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router]
impl CalcServer {
    /// A server with its tools registered.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Evaluate an arithmetic expression: any sum, product, percentage (15% of 80 is 80 * 15 / 100), power or total of several numbers. Operators + - * / % ^ and parentheses (keep the user's), comparisons, and functions such as math::sqrt, math::ln, math::sin, min, max, floor, round; constants pi and e. Division is exact (7 / 2 is 3.5)."
    )]
    fn evaluate(&self, Parameters(args): Parameters<EvaluateArgs>) -> CallToolResult {
        super::outcome(evaluate(&args.expression).map(|value| {
            let text = format!("{} = {value}", args.expression.trim());
            (
                text,
                json!({ "expression": args.expression, "result": value }),
            )
        }))
    }

    #[tool(
        description = "Monthly payment of a fixed-rate loan repaid in equal monthly instalments (standard amortisation), with the total paid and the total interest."
    )]
    fn loan_payment(&self, Parameters(args): Parameters<LoanArgs>) -> CallToolResult {
        super::outcome(
            term_years(&args.term)
                .and_then(|years| loan_payment(args.principal, args.annual_rate_percent, years))
                .map(|loan| {
                    let text = format!(
                        "{:.2} a month for {} months; total paid {:.2}, of which interest {:.2}",
                        loan.monthly_payment, loan.months, loan.total_paid, loan.total_interest
                    );
                    (text, loan.to_json())
                }),
        )
    }

    #[tool(
        description = "Savings and investments only: the final amount and interest earned when money grows at a yearly rate over some years, with interest added several periods a year."
    )]
    fn compound_interest(&self, Parameters(args): Parameters<CompoundArgs>) -> CallToolResult {
        let result = compound_interest(
            args.principal,
            args.annual_rate_percent,
            args.years,
            args.compounds_per_year,
        );
        super::outcome(result.map(|amount| {
            let interest = amount - args.principal;
            let text = format!("final amount {amount:.2}; interest earned {interest:.2}");
            (
                text,
                json!({ "final_amount": amount, "interest_earned": interest }),
            )
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CalcServer {
    fn get_info(&self) -> ServerConfig {
        super::info(
            "calc",
            "Arithmetic and finance: evaluate expressions, loan payments, compound interest.",
        )
    }
}

/// The value of `expression` as JSON, or a one-line error. Written as people write it:
/// `**` and `^` are powers, `×`, `·` and `x` between numbers multiply, `÷` divides, and
/// `200,000` or `$5` are numbers.
pub fn evaluate(expression: &str) -> Result<serde_json::Value, String> {
    let written = expression;
    let expression = &exact_division(&normalise(expression));
    let mut context = HashMapContext::<DefaultNumericTypes>::new();
    for (name, value) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E)] {
        context
            .set_value(name.into(), Value::Float(value))
            .map_err(|e| format!("cannot set up the calculator: {e}"))?;
    }
    // Evaluated against `&context`, not `&mut`: assignments fail instead of persisting.
    let value = evalexpr::eval_with_context(expression, &context)
        .map_err(|e| format!("cannot evaluate {written:?}: {}", one_line(&e.to_string())))?;
    to_json(&value)
}

/// `expression` in evalexpr's syntax (see [`evaluate`]).
fn normalise(expression: &str) -> String {
    let chars: Vec<char> = expression.replace("**", "^").chars().collect();
    let digit_before = |i: usize| {
        chars[..i]
            .iter()
            .rev()
            .find(|c| !c.is_whitespace())
            .is_some_and(|c| c.is_ascii_digit() || *c == ')')
    };
    let digit_after = |i: usize| {
        chars[i + 1..]
            .iter()
            .find(|c| !c.is_whitespace())
            .is_some_and(|c| c.is_ascii_digit() || *c == '(' || *c == '.')
    };
    // A comma inside a number ("200,000"): a digit before it, exactly three after it.
    let grouping = |i: usize| {
        i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.len() >= i + 4
            && chars[i + 1..i + 4].iter().all(char::is_ascii_digit)
            && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
    };
    let calls = expression.contains('(');
    let mut out = String::with_capacity(expression.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '×' | '·' | '∙' => out.push('*'),
            '÷' => out.push('/'),
            '−' => out.push('-'),
            'x' | 'X' if digit_before(i) && digit_after(i) => out.push('*'),
            '$' | '€' | '£' => {}
            // Inside a function call a comma may separate arguments: "max(1,234)".
            ',' if !calls && grouping(i) => {}
            c => out.push(c),
        }
    }
    out
}

/// `expression` with its whole numbers written as decimals when it divides, so that 7 / 2
/// is 3.5 and 15 / 100 * 2340 is 351 as on any calculator (evalexpr divides integers as
/// integers; a model wrote `15 / 100 * 2340` for "15% of 2,340" and got 0). A number that is
/// part of a name (`log2`), a decimal or an exponent (`1e5`) is left alone.
fn exact_division(expression: &str) -> String {
    if !expression.contains('/') {
        return expression.to_owned();
    }
    let chars: Vec<char> = expression.chars().collect();
    let mut out = String::with_capacity(expression.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let in_word = i > 0 && (chars[i - 1].is_alphanumeric() || "_.:".contains(chars[i - 1]));
        if !c.is_ascii_digit() || in_word {
            out.push(c);
            i += 1;
            continue;
        }
        let end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len());
        out.extend(&chars[i..end]);
        let next = chars.get(end);
        if next.is_none_or(|n| !(n.is_alphanumeric() || *n == '.' || *n == '_')) {
            out.push_str(".0");
        }
        i = end;
    }
    out
}

/// Whole floats below 2^53 are shown as integers: 351, not 351.0.
const EXACT_WHOLE: f64 = 9_007_199_254_740_992.0;

fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    match value {
        Value::Int(i) => Ok(json!(i)),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < EXACT_WHOLE => Ok(json!(*f as i64)),
        Value::Float(f) if f.is_finite() => Ok(json!(f)),
        Value::Float(f) => Err(format!("the result is not a finite number ({f})")),
        Value::Boolean(b) => Ok(json!(b)),
        Value::String(s) => Ok(json!(s)),
        Value::Tuple(items) => items
            .iter()
            .map(to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(Into::into),
        Value::Empty => Ok(serde_json::Value::Null),
    }
}

/// A loan's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loan {
    /// Each month's payment.
    pub monthly_payment: f64,
    /// Number of monthly payments.
    pub months: u32,
    /// All payments together.
    pub total_paid: f64,
    /// `total_paid` minus the principal.
    pub total_interest: f64,
}

impl Loan {
    fn to_json(self) -> serde_json::Value {
        json!({
            "monthly_payment": round_cents(self.monthly_payment),
            "months": self.months,
            "total_paid": round_cents(self.total_paid),
            "total_interest": round_cents(self.total_interest),
        })
    }
}

fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn check(name: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{name} must be between {low} and {high}, not {value}"
        ))
    }
}

/// The loan's length in years from its `term`: "30 years", "60 months", "5 yrs",
/// "30-year". A bare number is refused: 60 may be months or years.
fn term_years(term: &str) -> Result<f64, String> {
    let text = term.trim().to_lowercase().replace('-', " ");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number = crate::tools::repair::number(number);
    let unit = unit.trim().trim_end_matches('s');
    let per_year = match unit {
        "year" | "yr" | "y" => Some(1.0),
        "month" | "mo" => Some(12.0),
        _ => None,
    };
    match (number, per_year) {
        (Some(n), Some(per_year)) => Ok(n / per_year),
        _ => Err(format!(
            "cannot read the term {term:?}; write it with its unit, e.g. \"30 years\" or \"60 months\""
        )),
    }
}

/// Standard amortisation: `P·r / (1 − (1 + r)^−n)` with monthly rate `r` and `n` months;
/// `P / n` at a zero rate.
pub fn loan_payment(principal: f64, annual_rate_percent: f64, years: f64) -> Result<Loan, String> {
    check("principal", principal, 0.0, 1e15)?;
    check("annual_rate_percent", annual_rate_percent, 0.0, 1000.0)?;
    check("years", years, 1.0 / 12.0, 100.0)?;
    // Within 1..=1200 after the checks above.
    let months = (years * 12.0).round() as u32;
    let n = f64::from(months);
    let r = annual_rate_percent / 100.0 / 12.0;
    let monthly_payment = if r == 0.0 {
        principal / n
    } else {
        principal * r / (1.0 - (1.0 + r).powf(-n))
    };
    let total_paid = monthly_payment * n;
    Ok(Loan {
        monthly_payment,
        months,
        total_paid,
        total_interest: total_paid - principal,
    })
}

/// `P · (1 + r/k)^(k·t)`.
pub fn compound_interest(
    principal: f64,
    annual_rate_percent: f64,
    years: f64,
    compounds_per_year: u32,
) -> Result<f64, String> {
    check("principal", principal, 0.0, 1e15)?;
    check("annual_rate_percent", annual_rate_percent, 0.0, 1000.0)?;
    check("years", years, 0.0, 1000.0)?;
    if !(1..=366).contains(&compounds_per_year) {
        return Err(format!(
            "compounds_per_year must be between 1 and 366, not {compounds_per_year}"
        ));
    }
    let k = f64::from(compounds_per_year);
    let amount = principal * (1.0 + annual_rate_percent / 100.0 / k).powf(k * years);
    if amount.is_finite() {
        Ok(amount)
    } else {
        Err("the result is too large to represent".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_precedence_functions_and_constants() {
        assert_eq!(evaluate("2 + 3 * 4"), Ok(json!(14)));
        assert_eq!(evaluate("7.0 / 2"), Ok(json!(3.5)));
        assert_eq!(evaluate("7 / 2"), Ok(json!(3.5)));
        assert_eq!(evaluate("15 / 100 * 2340"), Ok(json!(351)));
        assert_eq!(evaluate("(17 + 25) / 4"), Ok(json!(10.5)));
        assert_eq!(evaluate("1e3 / 8"), Ok(json!(125)));
        assert_eq!(evaluate("math::log2(8) / 3"), Ok(json!(1)));
        assert_eq!(evaluate("math::sqrt(16)"), Ok(json!(4)));
        assert_eq!(
            evaluate("math::sqrt(2)"),
            Ok(json!(std::f64::consts::SQRT_2))
        );
        assert_eq!(evaluate("2 > 1"), Ok(json!(true)));
        let pi = evaluate("pi").unwrap().as_f64().unwrap();
        assert!((pi - std::f64::consts::PI).abs() < 1e-12);
    }

    #[test]
    fn expressions_as_people_write_them() {
        assert_eq!(evaluate("2 ** 10"), evaluate("2 ^ 10"));
        assert_eq!(evaluate("3 × 4"), Ok(json!(12)));
        assert_eq!(evaluate("3x4"), Ok(json!(12)));
        assert_eq!(evaluate("3 x 4"), Ok(json!(12)));
        assert_eq!(evaluate("12 ÷ 4"), Ok(json!(3)));
        assert_eq!(evaluate("200,000 * 2"), Ok(json!(400000)));
        assert_eq!(evaluate("$1,500 + $500"), Ok(json!(2000)));
        assert_eq!(evaluate("max(1,234)"), Ok(json!(234)));
        assert_eq!(normalise("max(x, 2)"), "max(x, 2)");
        let err = evaluate("2 ** ").unwrap_err();
        assert!(err.contains("\"2 ** \""), "{err}");
    }

    #[test]
    fn loan_arguments_may_be_written_as_text() {
        let args: LoanArgs = serde_json::from_value(
            json!({"principal": "$200,000", "annual_rate_percent": "5%", "term": "30 years"}),
        )
        .unwrap();
        assert_eq!(
            (
                args.principal,
                args.annual_rate_percent,
                term_years(&args.term)
            ),
            (200_000.0, 5.0, Ok(30.0))
        );
        for (term, years) in [
            ("60 months", 5.0),
            ("1 year", 1.0),
            ("18 months", 1.5),
            ("30-year", 30.0),
            ("5 yrs", 5.0),
            ("2.5 years", 2.5),
        ] {
            assert_eq!(term_years(term), Ok(years), "{term}");
        }
        for bare in ["60", "sixty months", "30 decades", ""] {
            let err = term_years(bare).unwrap_err();
            assert!(err.contains("e.g. \"30 years\" or \"60 months\""), "{err}");
        }
        let bad = serde_json::from_value::<LoanArgs>(
            json!({"principal": "lots", "annual_rate_percent": 5, "term": "30 years"}),
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("\"lots\" is not a number")
        );
    }

    #[test]
    fn bad_expressions_and_assignments_are_errors() {
        assert!(evaluate("2 +").is_err());
        assert!(evaluate("x = 3").is_err());
        assert!(evaluate("unknown_var + 1").is_err());
        assert!(evaluate("1.0 / 0.0").is_err());
        assert!(!evaluate("2 +").unwrap_err().contains('\n'));
    }

    #[test]
    fn loan_payment_matches_the_textbook_value() {
        let loan = loan_payment(100_000.0, 5.0, 30.0).unwrap();
        assert_eq!(loan.months, 360);
        assert!((loan.monthly_payment - 536.82).abs() < 0.005, "{loan:?}");
        assert!((loan.total_interest - 93_255.78).abs() < 1.0, "{loan:?}");
    }

    #[test]
    fn zero_rate_loans_divide_evenly_and_bad_input_is_refused() {
        let loan = loan_payment(1200.0, 0.0, 1.0).unwrap();
        assert_eq!(loan.monthly_payment, 100.0);
        assert_eq!(loan.total_interest, 0.0);
        assert!(loan_payment(-1.0, 5.0, 30.0).is_err());
        assert!(loan_payment(1000.0, 5.0, 0.0).is_err());
        assert!(loan_payment(f64::NAN, 5.0, 1.0).is_err());
    }

    #[test]
    fn compound_interest_grows_as_expected() {
        let yearly = compound_interest(1000.0, 10.0, 2.0, 1).unwrap();
        assert!((yearly - 1210.0).abs() < 1e-9);
        let monthly = compound_interest(1000.0, 5.0, 10.0, 12).unwrap();
        assert!((monthly - 1647.01).abs() < 0.01, "{monthly}");
        assert!(compound_interest(1000.0, 5.0, 10.0, 0).is_err());
    }
}
