<?php
/*
 * Plugin Name: Archive test modes
 * Description: Switches the REST API and the core sitemaps of the tests' WordPress on or off
 * (options set by tests/wordpress/seed.php), and keeps it from sending mail.
 */

add_filter('rest_authentication_errors', function ($result) {
    if (get_option('archive_test_rest', 'on') === 'refused' && !is_user_logged_in()) {
        return new WP_Error('rest_not_logged_in', 'REST API refused to anonymous clients.',
                            array('status' => 401));
    }
    return $result;
});

add_filter('wp_sitemaps_enabled', function ($enabled) {
    return $enabled && get_option('archive_test_sitemaps', 'on') !== 'off';
});

if (!function_exists('wp_mail')) {
    function wp_mail($to, $subject, $message, $headers = '', $attachments = array()) {
        return true;
    }
}
