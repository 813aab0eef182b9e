"""Variables of the ASP law. One concept per variable, each with a label and a legal reference."""
