// The admin page's delivery chart: counts over time drawn as SVG lines,
// with axes, clock-time labels and a marker at each line's latest value.
// Plain DOM, no library: the page must work from a copy of client/ with
// nothing to install, and an SVG of a few paths is small to write by hand.
//
//   WebPushAdminChart.draw(svg, series, samples, {marks})
//     series:  [{key, label, color, dash}]  (drawn in this order)
//     samples: [{t: ms since the epoch, v: {key: number or null}}]
//     marks:   [{t, label}]  vertical lines (the notification's sendAt)
//   A series with no number in any sample is not drawn: the server does
//   not report it (yet), and the legend says "—" for it.
'use strict';

(function () {
    var NS = 'http://www.w3.org/2000/svg';
    var W = 800;
    var H = 300;
    var M = {left: 56, right: 20, top: 16, bottom: 40};
    // tick spacings for the time axis, in seconds: the first one that
    // gives at most MAX_X_TICKS labels is used
    var X_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                   7200, 10800, 21600, 43200, 86400];
    var MAX_X_TICKS = 7;
    var MIN_SPAN_MS = 10000;
    // a sendAt further ahead than this does not stretch the time axis
    // (the chart would be a flat line squeezed to the left)
    var MARK_AHEAD_MS = 15 * 60 * 1000;

    function el(name, attrs, text) {
        var e = document.createElementNS(NS, name);
        Object.keys(attrs || {}).forEach(function (k) {
            e.setAttribute(k, String(attrs[k]));
        });
        if (text !== undefined) {
            e.textContent = text;
        }
        return e;
    }

    function pad(n) {
        return (n < 10 ? '0' : '') + n;
    }

    // local clock time: what the admin's own clock shows
    function clock(t) {
        var d = new Date(t);
        return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':'
               + pad(d.getSeconds());
    }

    // a step of 1, 2 or 5 times a power of ten giving at most 6 intervals
    // up to max; counts are integers, so never below 1
    function yStep(max) {
        var raw = Math.max(max / 6, 1);
        var p = Math.pow(10, Math.floor(Math.log10(raw)));
        var steps = [1, 2, 5, 10];
        for (var i = 0; i < steps.length; i++) {
            if (steps[i] * p >= raw) {
                return steps[i] * p;
            }
        }
        return 10 * p;
    }

    function xStep(spanMs) {
        for (var i = 0; i < X_STEPS.length; i++) {
            if (spanMs / (X_STEPS[i] * 1000) <= MAX_X_TICKS) {
                return X_STEPS[i] * 1000;
            }
        }
        return Math.ceil(spanMs / MAX_X_TICKS / 86400000) * 86400000;
    }

    function num(v) {
        return typeof v === 'number' && isFinite(v);
    }

    function draw(svg, series, samples, options) {
        var marks = (options && options.marks) || [];
        svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
        // keep <title> and <desc> (the accessible name), redraw the rest
        Array.prototype.slice.call(svg.childNodes).forEach(function (c) {
            if (c.nodeName !== 'title' && c.nodeName !== 'desc') {
                svg.removeChild(c);
            }
        });

        var drawn = series.filter(function (s) {
            return samples.some(function (p) { return num(p.v[s.key]); });
        });
        var now = samples.length ? samples[samples.length - 1].t : Date.now();
        var t0 = samples.length ? samples[0].t : now;
        var t1 = Math.max(now, t0 + MIN_SPAN_MS);
        marks = marks.filter(function (m) {
            return num(m.t) && m.t >= t0 - MIN_SPAN_MS
                   && m.t <= now + MARK_AHEAD_MS;
        });
        marks.forEach(function (m) {
            t0 = Math.min(t0, m.t);
            t1 = Math.max(t1, m.t);
        });
        var max = 0;
        samples.forEach(function (p) {
            drawn.forEach(function (s) {
                if (num(p.v[s.key])) {
                    max = Math.max(max, p.v[s.key]);
                }
            });
        });
        var ys = yStep(Math.max(max, 1));
        var yMax = Math.max(ys, Math.ceil(max / ys) * ys);
        var pw = W - M.left - M.right;
        var ph = H - M.top - M.bottom;
        var x = function (t) { return M.left + (t - t0) / (t1 - t0) * pw; };
        var y = function (v) { return M.top + ph - v / yMax * ph; };
        var r1 = function (n) { return Math.round(n * 10) / 10; };

        svg.dataset.yMax = String(yMax);
        svg.dataset.samples = String(samples.length);

        // grid and y axis labels
        var grid = el('g', {'class': 'chart-grid', 'aria-hidden': 'true'});
        for (var v = 0; v <= yMax; v += ys) {
            grid.appendChild(el('line', {x1: M.left, x2: W - M.right,
                                         y1: r1(y(v)), y2: r1(y(v))}));
            grid.appendChild(el('text', {x: M.left - 8, y: r1(y(v)) + 4,
                                         'text-anchor': 'end',
                                         'class': 'chart-y-label'},
                                String(v)));
        }
        // time axis: ticks at whole multiples of the step, clock labels
        var xs = xStep(t1 - t0);
        for (var t = Math.ceil(t0 / xs) * xs; t <= t1; t += xs) {
            // a label at either end stays inside the picture
            var anchor = x(t) > W - 30 ? 'end'
                         : x(t) < M.left + 25 ? 'start' : 'middle';
            grid.appendChild(el('line', {x1: r1(x(t)), x2: r1(x(t)),
                                         y1: M.top + ph, y2: M.top + ph + 5}));
            grid.appendChild(el('text', {x: r1(x(t)), y: H - M.bottom + 20,
                                         'text-anchor': anchor,
                                         'class': 'chart-x-label'},
                                clock(t)));
        }
        grid.appendChild(el('line', {'class': 'chart-axis', x1: M.left,
                                     x2: W - M.right, y1: M.top + ph,
                                     y2: M.top + ph}));
        grid.appendChild(el('line', {'class': 'chart-axis', x1: M.left,
                                     x2: M.left, y1: M.top, y2: M.top + ph}));
        grid.appendChild(el('text', {x: M.left + pw / 2, y: H - 4,
                                     'text-anchor': 'middle',
                                     'class': 'chart-axis-title'},
                            'time (this computer\'s clock)'));
        grid.appendChild(el('text', {x: 14, y: M.top + ph / 2,
                                     'text-anchor': 'middle',
                                     'class': 'chart-axis-title',
                                     transform: 'rotate(-90 14 '
                                                + (M.top + ph / 2) + ')'},
                            'deliveries'));
        svg.appendChild(grid);

        marks.forEach(function (m) {
            var g = el('g', {'class': 'chart-mark'});
            g.appendChild(el('line', {x1: r1(x(m.t)), x2: r1(x(m.t)),
                                      y1: M.top, y2: M.top + ph}));
            // the label before the line (nothing is sent before sendAt),
            // unless there is no room there
            var right = x(m.t) - M.left < 70;
            g.appendChild(el('text', {x: r1(x(m.t)) + (right ? 4 : -4),
                                      y: M.top + 10,
                                      'text-anchor': right ? 'start' : 'end'},
                             m.label));
            svg.appendChild(g);
        });

        // one path per series, in steps: a figure holds until the sample
        // that saw it change (a straight line would show a rise before it
        // happened, e.g. before sendAt); a sample without a number breaks
        // the line
        drawn.forEach(function (s) {
            var d = '';
            var last = null;
            samples.forEach(function (p) {
                if (!num(p.v[s.key])) {
                    last = null;
                    return;
                }
                var px = r1(x(p.t));
                if (last === null) {
                    d += 'M' + px + ' ' + r1(y(p.v[s.key]));
                } else {
                    d += 'L' + px + ' ' + r1(y(last.v[s.key]))
                         + 'L' + px + ' ' + r1(y(p.v[s.key]));
                }
                last = p;
            });
            last = samples.filter(function (p) {
                return num(p.v[s.key]);
            }).pop();
            var g = el('g', {'class': 'chart-series',
                             'data-series': s.key});
            g.appendChild(el('path', {d: d, fill: 'none', stroke: s.color,
                                      'stroke-width': 2.5,
                                      'stroke-dasharray': s.dash || 'none',
                                      'stroke-linejoin': 'round'}));
            var dot = el('circle', {cx: r1(x(last.t)),
                                    cy: r1(y(last.v[s.key])), r: 4,
                                    fill: s.color, 'class': 'chart-last',
                                    'data-series': s.key,
                                    'data-value': last.v[s.key]});
            dot.appendChild(el('title', {}, s.label + ': ' + last.v[s.key]
                                            + ' at ' + clock(last.t)));
            g.appendChild(dot);
            svg.appendChild(g);
        });

        if (!samples.length) {
            svg.appendChild(el('text', {x: M.left + pw / 2, y: M.top + ph / 2,
                                        'text-anchor': 'middle',
                                        'class': 'chart-empty'},
                               'No figures yet'));
        }
        return {drawn: drawn.map(function (s) { return s.key; }),
                yMax: yMax, t0: t0, t1: t1};
    }

    window.WebPushAdminChart = {draw: draw, clock: clock};
}());
