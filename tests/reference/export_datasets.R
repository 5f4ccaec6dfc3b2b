# Writes the reference datasets used by the KM / log-rank conformance tests.
# Run from the repository root:  Rscript tests/reference/export_datasets.R
# Output: tests/reference/data/<name>.csv with columns time, status (0 = censored,
# 1 = event) and grouping columns. Produced with R 4.2 and survival 3.5-3.
suppressPackageStartupMessages(library(survival))
out <- "tests/reference/data"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(df, name) write.csv(df, file.path(out, paste0(name, ".csv")), row.names = FALSE)

# --- R datasets (survival package) ---------------------------------------------
# lung: status 1 = censored, 2 = dead -> 0/1. ph.ecog has one NA (kept: tests na.omit).
w(data.frame(time = lung$time, status = lung$status - 1, sex = lung$sex,
             ph_ecog = lung$ph.ecog), "lung")
w(data.frame(time = veteran$time, status = veteran$status, trt = veteran$trt,
             celltype = as.character(veteran$celltype), prior = veteran$prior), "veteran")
w(data.frame(time = ovarian$futime, status = ovarian$fustat, rx = ovarian$rx,
             resid_ds = ovarian$resid.ds), "ovarian")
# colon: two rows per patient; etype == 2 is the death record (one row per patient).
cd <- colon[colon$etype == 2, ]
w(data.frame(time = cd$time, status = cd$status, rx = as.character(cd$rx), sex = cd$sex,
             differ = cd$differ), "colon")
# pbc: status 0 censored, 1 transplant, 2 dead -> death = event, transplant censored.
# trt is NA for the 106 non-randomised patients (tests dropping missing rows).
w(data.frame(time = pbc$time, status = as.integer(pbc$status == 2), trt = pbc$trt,
             sex = as.character(pbc$sex), edema = pbc$edema), "pbc")
w(data.frame(time = aml$time, status = aml$status, x = as.character(aml$x)), "aml")

# --- synthetic edge cases --------------------------------------------------------
# reference: the two-arm data set of endpoints-and-statistics.md section 6.
w(data.frame(time = c(2, 3, 3, 5, 6, 8, 9, 12, 15, 20, 4, 6, 6, 9, 11, 14, 18, 22, 25, 30),
             status = c(1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0),
             group = rep(c("A", "B"), each = 10), strat = rep(1:2, 10)), "reference")
# heavy ties: whole days 1..8, many events and censorings on the same day, 3 groups.
set.seed(20261124)
n <- 120
w(data.frame(time = sample(1:8, n, replace = TRUE), status = rbinom(n, 1, 0.6),
             group = sample(c("a", "b", "c"), n, replace = TRUE),
             strat = sample(1:2, n, replace = TRUE)), "ties_heavy")
# an all-censored group (C) and a group of one (D) beside two ordinary groups.
w(data.frame(time = c(1, 3, 4, 6, 7, 9, 2, 5, 5, 8, 10, 12, 3, 6, 9, 11, 7),
             status = c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1),
             group = c(rep("A", 6), rep("B", 6), rep("C", 4), "D"),
             strat = c(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1)), "edge_groups")
# curve flat at exactly 0.5 (8 subjects, 4 events then a censored stretch),
# last observation censored, median not reached; M1-M3 of endpoints doc section 5.3.
w(data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 1, 2, 3, 4, 5,
                      2, 4, 6, 8, 10, 12, 3, 5, 7, 9, 11, 13, 15, 17),
             status = c(1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0,
                        1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0),
             group = c(rep("flat_half", 8), rep("M1", 6), rep("M2", 4), rep("M3", 5),
                       rep("not_reached", 6), rep("last_censored", 8))), "edge_curves")
# n = 13 split 8 / 5 (the size of the seed study), months with decimals.
w(data.frame(time = c(6.14, 3.06, 7.2, 2.9, 4.13, 9.5, 5.97, 2.1, 1.68, 1.2, 3.83, 2.4, 1.97),
             status = c(1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1),
             group = c(rep("ps01", 8), rep("ps2", 5))), "n13")
cat("datasets written to", out, "\n")
