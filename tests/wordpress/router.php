<?php
/*
 * Router of PHP's built-in server for the tests' WordPress.
 *
 * Debian's wp-config.php would read /etc/wordpress/config-HOST.php; defining ABSPATH here
 * makes wp-load.php read the private wp-config.php of the test's own directory instead, so
 * nothing outside that directory is read for configuration or written. Every request is
 * logged before WordPress runs, so the log holds a request as soon as the client can see any
 * of its answer.
 */
$root = getenv('ARCHIVE_WP_ROOT');
define('ABSPATH', $root . '/wordpress/');

$line = $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . "\n";
file_put_contents($root . '/access.log', $line, FILE_APPEND | LOCK_EX);

$path = '/' . ltrim(urldecode((string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH)), '/');
$file = ABSPATH . ltrim($path, '/');
if ($path !== '/' && strpos($path, '..') === false && is_file($file)) {
    if (substr($path, -4) !== '.php') {
        return false;
    }
    chdir(dirname($file));
    require $file;
    return true;
}
chdir(ABSPATH);
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
require ABSPATH . 'index.php';
