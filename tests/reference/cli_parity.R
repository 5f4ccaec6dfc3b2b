# Reference values for the `stats km` / `stats cox` options --conf-level, --quantiles,
# --landmarks and --reference, from R survival 3.5 on tests/reference/data/cox_veteran.csv.
#
# Run from the repository root:   Rscript tests/reference/cli_parity.R
# Writes tests/reference/fixtures/coxx_cli.json.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

d <- read.csv("tests/reference/data/cox_veteran.csv")
km <- survfit(Surv(time, event) ~ 1, data = d, conf.int = 0.9)
q <- quantile(km, c(0.25, 0.75))
lm <- summary(km, times = c(30, 90))
d$celltype <- relevel(factor(d$celltype), ref = "large")
fit <- coxph(Surv(time, event) ~ celltype + karno, data = d)
ci <- summary(fit, conf.int = 0.9)$conf.int

writeLines(to_json(list(
  km = list(conf_level = scalar(0.9), probs = c(0.25, 0.75), quantile = unname(q$quantile),
            lower = unname(q$lower), upper = unname(q$upper), times = c(30, 90),
            surv = lm$surv, surv_lower = lm$lower, surv_upper = lm$upper, n_risk = lm$n.risk),
  cox = list(reference = scalar("large"), terms = names(coef(fit)), coef = unname(coef(fit)),
             hr_lower = unname(ci[, 3]), hr_upper = unname(ci[, 4]))
)), "tests/reference/fixtures/coxx_cli.json")
