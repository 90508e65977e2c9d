package io.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The --report page: inline SVG charts and the report table, nothing external. */
@Timeout(120)
class HtmlReportTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteOnePageWithInlineSvgChartsAndTheTableValues() throws Exception {
        List<BenchRun.Sample> timeline = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            timeline.add(new BenchRun.Sample(s, s * 5_000L, s * 5_000L, s / 10, s > 10 ? 2_000 : 0,
                    s > 10 ? 1.5 + s / 10.0 : Double.NaN));
        }
        Histogram push = new Histogram(3);
        for (int i = 1; i <= 10_000; i++) {
            push.recordValue(200 + i % 900);
        }
        push.recordValue(48_000);
        List<HtmlReport.Row> rows = List.of(new HtmlReport.Row("connections established", "98765 / 100000"),
                new HtmlReport.Row("errors", "{connect <timeout>=3}"));
        Path file = dir.resolve("report.html");

        HtmlReport.write(file, "bench: 100000 connections", timeline, push, rows);

        String html = Files.readString(file);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertEquals(3, html.split("<svg", -1).length - 1, "connections, pushes over time, percentiles");
        assertFalse(html.contains("<?xml"), "SVG prologues are stripped for inlining");
        assertTrue(html.contains("<td>connections established</td><td>98765 / 100000</td>"));
        assertTrue(html.contains("{connect &lt;timeout&gt;=3}"), "values are escaped");
        assertTrue(html.contains("10001 pushes"));
        assertFalse(html.contains("<script") || html.contains("src=\"http"), "self-contained");
    }

    @Test
    void shouldLeaveOutPushChartsWhenNothingWasPushed() throws Exception {
        List<BenchRun.Sample> timeline = List.of(new BenchRun.Sample(0, 0, 0, 0, 0, Double.NaN),
                new BenchRun.Sample(1, 10, 10, 0, 0, Double.NaN));
        String html = HtmlReport.render("t", timeline, new Histogram(3), List.of(new HtmlReport.Row("a", "1")));
        assertEquals(1, html.split("<svg", -1).length - 1);
        assertTrue(html.contains("<td>a</td><td>1</td>"));
    }

    @Test
    void shouldLabelThePercentileAxis() {
        assertEquals("0%", HtmlReport.percentileLabel(0));
        assertEquals("90%", HtmlReport.percentileLabel(1));
        assertEquals("99%", HtmlReport.percentileLabel(2));
        assertEquals("99.9%", HtmlReport.percentileLabel(3));
        assertEquals("99.999%", HtmlReport.percentileLabel(5));
        assertEquals("68.38%", HtmlReport.percentileLabel(0.5));
    }

    @Test
    void shouldGiveEveryTickADifferentLabelBecauseXChartLoopsOnDuplicates() {
        for (double step : new double[] {0.05, 0.1, 0.2, 0.25, 0.5}) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = -10; i * step <= 8; i++) {
                String label = HtmlReport.percentileLabel(i * step);
                assertTrue(seen.add(label), "duplicate " + label + " at step " + step);
            }
        }
    }
}
